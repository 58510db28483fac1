import { chunkContentRange, uploadedBytes } from './content-range';

describe('chunkContentRange', () => {
  it.each([
    [0, 10, '0-9'],
    [5 * 1024 * 1024, 1, '5242880-5242880'],
  ])('offset %d, %d bytes → %s', (offset, length, expected) => {
    expect(chunkContentRange(offset, length)).toBe(expected);
  });
});

describe('uploadedBytes', () => {
  it.each([
    [undefined, 0],
    ['0-0', 0],
    ['0-9', 10],
    ['bytes=0-1023', 1024],
    [['0-99'], 100],
  ])('%p → %d', (range, expected) => {
    expect(uploadedBytes(range)).toBe(expected);
  });

  it('refuses a range it cannot read', () => {
    expect(() => uploadedBytes('junk')).toThrow('"junk" that is not START-END');
  });
});
