// The one page that works without a session: it trades the token for the HttpOnly session cookie.
const form = document.getElementById('login') as HTMLFormElement | null;
const message = document.getElementById('login-message');

form?.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = String(new FormData(form).get('token') ?? '').trim();
  if (message) message.textContent = '';
  fetch('/api/v1/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-requested-with': 'console' },
    body: JSON.stringify({ token }),
  }).then(
    (res) => {
      if (res.ok) {
        const next = new URLSearchParams(location.search).get('next') ?? '';
        // Only a hash route of this console: never an address someone put in the link.
        location.assign(`/${next.startsWith('#/') ? next : ''}`);
      } else if (message) {
        const target = message;
        // In proxy mode the conductor explains that sign-in goes through the proxy: show its words.
        res.json().then(
          (body: { message?: unknown }) => {
            target.textContent = res.status === 401 ? 'That token is not valid.' : `Sign-in failed: ${typeof body.message === 'string' ? body.message : res.status}`;
          },
          () => {
            target.textContent = res.status === 401 ? 'That token is not valid.' : `Sign-in failed (${res.status}).`;
          },
        );
      }
    },
    () => {
      if (message) message.textContent = 'The conductor did not answer.';
    },
  );
});
