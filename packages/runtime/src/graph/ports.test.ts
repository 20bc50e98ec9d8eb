import { describe, expect, expectTypeOf, it } from 'vitest';
import type { InputValues } from '../engine/node-definition';
import { canConnect, port } from './ports';

describe('port', () => {
  it('builds specs, optional only when asked, with the literal carried into the types', () => {
    const inputs = {
      image: port.image(),
      reference: port.image({ optional: true, label: 'Ref' }),
      n: port.number({ optional: false }),
    };
    expect(inputs.image).toEqual({ kind: 'image', optional: false });
    expect(inputs.reference).toEqual({ kind: 'image', optional: true, label: 'Ref' });
    type Values = InputValues<typeof inputs>;
    expectTypeOf<Values['image']['width']>().toEqualTypeOf<number>();
    expectTypeOf<Values['reference']>().toMatchTypeOf<{ width: number } | undefined>();
    expectTypeOf<undefined>().toMatchTypeOf<Values['reference']>();
    expectTypeOf<Values['n']>().toEqualTypeOf<number>();
  });

  it('connects equal kinds and agreeing shapes only', () => {
    expect(canConnect(port.image(), port.image({ optional: true }))).toEqual({ ok: true });
    expect(canConnect(port.number(), port.image())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/Number/),
    });
    expect(canConnect(port.latent({ shape: [1, 4, 'h', 'w'] }), port.latent({ shape: [1, 4, 64, 64] }))).toEqual({
      ok: true,
    });
    expect(canConnect(port.latent({ shape: [1, 4] }), port.latent({ shape: [1, 8] }))).toMatchObject({ ok: false });
    expect(canConnect(port.latent({ shape: [1, 4] }), port.latent({ shape: [1, 4, 1] }))).toMatchObject({ ok: false });
  });
});
