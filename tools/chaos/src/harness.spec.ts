import { capExcess } from './harness';

describe('capExcess (the capViolations figure of one sample)', () => {
  const caps = { max: 4, perClaim: 3 };

  it('is 0 at the caps and below them', () => {
    expect(capExcess([], caps)).toBe(0);
    expect(capExcess([{ active: 3, claim_limit: null }, { active: 1, claim_limit: null }], caps)).toBe(0);
  });

  it('counts jobs beyond the global cap', () => {
    expect(capExcess([{ active: 3, claim_limit: null }, { active: 3, claim_limit: null }], caps)).toBe(2);
  });

  it("counts jobs beyond a claim's limit, its route's own when it has one", () => {
    expect(capExcess([{ active: 4, claim_limit: null }], { max: 10, perClaim: 3 })).toBe(1);
    expect(capExcess([{ active: 2, claim_limit: 1 }], caps)).toBe(1);
    expect(capExcess([{ active: 4, claim_limit: 5 }], { max: 10, perClaim: 3 })).toBe(0);
  });

  it('takes the larger excess when both caps are exceeded', () => {
    expect(capExcess([{ active: 6, claim_limit: null }], caps)).toBe(3);
  });
});
