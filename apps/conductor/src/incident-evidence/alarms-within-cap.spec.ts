import { alarmsWithinCap } from './incident-evidence.service';

describe('alarmsWithinCap', () => {
  it('keeps the first alarms of one account up to the cap, as the pack always did', () => {
    expect(alarmsWithinCap([14], 10)).toEqual([10]);
    expect(alarmsWithinCap([3], 10)).toEqual([3]);
  });

  it('gives every account its first alarm before any account gets another, the job\'s own account first', () => {
    expect(alarmsWithinCap([9, 3], 10)).toEqual([7, 3]);
    expect(alarmsWithinCap([1, 20], 10)).toEqual([1, 9]);
    expect(alarmsWithinCap([4, 4, 4], 10)).toEqual([4, 3, 3]);
    expect(alarmsWithinCap([2, 2], 10)).toEqual([2, 2]);
  });

  it('leaves the last accounts out when there are more accounts than the cap', () => {
    expect(alarmsWithinCap([2, 2, 2], 2)).toEqual([1, 1, 0]);
  });
});
