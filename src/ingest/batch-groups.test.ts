import { describe, expect, it } from 'vitest';
import { BatchGroups } from './batch-groups.js';

interface Batch {
  readonly events: readonly string[];
}

/** Groups that record what each write was given and answer each batch with its events joined. */
function recording(limit: number, fail?: (batches: readonly Batch[]) => boolean) {
  const writes: Array<{ key: string; batches: string[] }> = [];
  let release: (() => void) | undefined;
  const groups = new BatchGroups<Batch, string>(async (key, batches) => {
    writes.push({ key, batches: batches.map((b) => b.events.join('')) });
    // The first write of a key holds until released, so later batches pile up behind it.
    if (writes.length === 1) await new Promise<void>((resolve) => (release = resolve));
    if (fail?.(batches)) throw new Error(`failed ${batches.length}`);
    return batches.map((b) => b.events.join('+'));
  }, limit);
  return { groups, writes, release: () => release?.() };
}

const b = (...events: string[]): Batch => ({ events });

/** One turn of the event loop: what a group waits before it is written. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchGroups', () => {
  it('writes the batches that arrive in one turn together, and those that wait behind a write as the next group', async () => {
    const { groups, writes, release } = recording(100);
    const first = [groups.add('acme', b('a')), groups.add('acme', b('b'))];
    await turn();
    expect(writes).toEqual([{ key: 'acme', batches: ['a', 'b'] }]);
    // While acme's group is being written: more acme batches wait; another org's does not.
    const rest = [groups.add('acme', b('c', 'd')), groups.add('acme', b('e')), groups.add('beta', b('x'))];
    await turn();
    expect(writes.map((w) => w.key)).toEqual(['acme', 'beta']);
    release();
    expect(await Promise.all([...first, ...rest])).toEqual(['a', 'b', 'c+d', 'e', 'x']);
    expect(writes.at(-1)).toEqual({ key: 'acme', batches: ['cd', 'e'] });
    // Idle again: a lone batch is written on the next turn, alone.
    expect(await groups.add('acme', b('f'))).toBe('f');
    expect(writes.at(-1)).toEqual({ key: 'acme', batches: ['f'] });
  });

  it('keeps a group within the event limit, but never leaves a batch larger than it behind', async () => {
    const { groups, writes, release } = recording(3);
    const all = [groups.add('acme', b('a'))];
    await turn();
    all.push(
      groups.add('acme', b('b', 'c')),
      groups.add('acme', b('d')),
      groups.add('acme', b('e', 'f', 'g', 'h')),
      groups.add('acme', b('i')),
    );
    release();
    await Promise.all(all);
    expect(writes.map((w) => w.batches)).toEqual([['a'], ['bc', 'd'], ['efgh'], ['i']]);
  });

  it('fails every batch of a failed group with its error, and goes on with the next group', async () => {
    const { groups, release } = recording(100, (batches) => batches.length === 2);
    const all = [groups.add('acme', b('a'))];
    await turn();
    all.push(groups.add('acme', b('b')), groups.add('acme', b('c')));
    release();
    const settled = await Promise.allSettled(all);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect((settled[1] as PromiseRejectedResult).reason).toEqual(new Error('failed 2'));
    expect(await groups.add('acme', b('d'))).toBe('d');
  });
});
