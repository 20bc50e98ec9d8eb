import { describe, expect, it } from 'vitest';
import { clipTokenIds } from './clip-tokenizer';

const ids = async (text: string) => Array.from(await clipTokenIds(text), Number);

describe('clipTokenIds', () => {
  it("gives CLIP's ids: start, BPE tokens of the lower-cased text, end, zero padding to 77", async () => {
    const cat = await ids('A photo of a CAT');
    expect(cat.slice(0, 8)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407, 0]);
    expect(cat).toHaveLength(77);
    expect(cat.slice(7).every((id) => id === 0)).toBe(true);
    expect((await ids('')).slice(0, 3)).toEqual([49406, 49407, 0]);
  });

  it('cuts a long prompt at 77 ids, still ending with the end token', async () => {
    const long = await ids('sharp '.repeat(200));
    expect(long).toHaveLength(77);
    expect(long[0]).toBe(49406);
    expect(long[76]).toBe(49407);
    expect(long.slice(1, 76).every((id) => id === long[1])).toBe(true);
  });
});
