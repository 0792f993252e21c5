import { api } from './api';
import { deliveriesPage, deliveryDetailPage } from './pages/deliveries';
import { incidentDetailPage, incidentsPage } from './pages/incidents';
import { jobDetailPage } from './pages/job-detail';
import { jobsPage } from './pages/jobs';
import { overviewPage } from './pages/overview';
import { showError, type Page, type PageContext } from './view';

// Hash routes: the conductor serves one page at /, so a reload or a shared link never needs a server route.
const ROUTES: [RegExp, Page, string][] = [
  [/^\/?$/, overviewPage, 'overview'],
  [/^\/jobs$/, jobsPage, 'jobs'],
  [/^\/jobs\/(?<id>[^/]+)$/, jobDetailPage, 'jobs'],
  [/^\/incidents$/, incidentsPage, 'incidents'],
  [/^\/incidents\/(?<id>[^/]+)$/, incidentDetailPage, 'incidents'],
  [/^\/deliveries$/, deliveriesPage, 'deliveries'],
  [/^\/deliveries\/(?<id>[^/]+)$/, deliveryDetailPage, 'deliveries'],
];

let stopCurrent: (() => void) | undefined;

function route(): void {
  stopCurrent?.();
  const view = document.getElementById('view');
  if (!view) return;
  const [path = '', search = ''] = location.hash.replace(/^#/, '').split('?');
  const match = ROUTES.map(([pattern, page, nav]) => ({ found: pattern.exec(path), page, nav })).find((candidate) => candidate.found);
  for (const item of document.querySelectorAll('nav.main a')) {
    if (item.getAttribute('data-nav') === match?.nav) item.setAttribute('aria-current', 'page');
    else item.removeAttribute('aria-current');
  }
  const cleanups: (() => void)[] = [];
  let stopped = false;
  stopCurrent = () => {
    stopped = true;
    for (const cleanup of cleanups) cleanup();
  };
  const ctx: PageContext = {
    view,
    params: Object.fromEntries(Object.entries(match?.found?.groups ?? {}).map(([name, value]) => [name, decodeURIComponent(value)])),
    query: new URLSearchParams(search),
    onStop: (cleanup) => cleanups.push(cleanup),
    stopped: () => stopped,
  };
  view.replaceChildren();
  if (!match) {
    view.textContent = `No page at ${path}.`;
    return;
  }
  Promise.resolve(match.page(ctx)).catch((error: unknown) => showError(ctx, error));
}

document.getElementById('logout')?.addEventListener('click', () => {
  api.logout().finally(() => location.assign('/login'));
});
window.addEventListener('hashchange', route);
route();
