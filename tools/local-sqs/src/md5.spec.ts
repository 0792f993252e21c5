import { createHash } from 'node:crypto';
import { md5Hex, md5OfMessageAttributes } from './md5';

// Vectors published elsewhere (AWS docs example, LocalStack and sqslite tests), not computed by this code.
describe('md5OfMessageAttributes', () => {
  it('matches the AWS documentation example', () => {
    expect(md5OfMessageAttributes({ SellerName: { DataType: 'String', StringValue: 'Example Store' } })).toBe('cd28f3b68aeee4b2eac9c66f2f694b58');
  });

  it('matches a Number attribute vector', () => {
    expect(md5OfMessageAttributes({ timestamp: { DataType: 'Number', StringValue: '1493147359900' } })).toBe('235c5c510d26fb653d073faed50ae77c');
  });

  it('sorts attributes by name regardless of insertion order', () => {
    const expected = 'd21ae90c49061e927f57df5f5d72be1f';
    expect(
      md5OfMessageAttributes({ ordinal: { DataType: 'Number', StringValue: '1' }, category: { DataType: 'String', StringValue: 'test' } }),
    ).toBe(expected);
    expect(
      md5OfMessageAttributes({ category: { DataType: 'String', StringValue: 'test' }, ordinal: { DataType: 'Number', StringValue: '1' } }),
    ).toBe(expected);
  });

  it('hashes bodies as UTF-8', () => {
    expect(md5Hex('The quick brown fox jumps over the lazy dog')).toBe('9e107d9d372bb6826bd81d3542a419d6');
    expect(md5Hex('é')).toBe(createHash('md5').update(Buffer.from([0xc3, 0xa9])).digest('hex'));
  });
});
