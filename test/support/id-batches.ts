import fc from 'fast-check';

/**
 * Sequences of event-id batches for deduplication properties: numbered ids sent in increasing
 * runs (as call systems send them), runs re-sent, shuffled or overlapping the ones before, ids that
 * repeat inside a batch, and ids beyond ASCII; with what a correct store answers for each batch.
 */
const SPECIAL = ['é', 'éa', '\u{1F600}', '\uFF10', 'z', 'zz', '0099', '099'];

const batchArb = fc.oneof(
  // A run of numbered ids, as sent or shuffled.
  fc
    .record({ from: fc.nat({ max: 300 }), length: fc.integer({ min: 1, max: 40 }), shuffled: fc.boolean() })
    .chain(({ from, length, shuffled }) => {
      const ids = Array.from({ length }, (_, i) => `${from + i}`);
      return shuffled ? fc.shuffledSubarray(ids, { minLength: length, maxLength: length }) : fc.constant(ids);
    }),
  // Any ids of the universe, repeats allowed.
  fc.array(fc.oneof(fc.nat({ max: 340 }).map(String), fc.constantFrom(...SPECIAL)), {
    minLength: 1,
    maxLength: 20,
  }),
);

export const idBatchesArb = fc.array(batchArb, { minLength: 1, maxLength: 10 });

/** Per batch, what a store that dedupes ids per org answers: new ids counted once, the rest duplicates. */
export function expectedCounts(batches: readonly (readonly string[])[]) {
  const seen = new Set<string>();
  return batches.map((ids) => {
    let accepted = 0;
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      accepted++;
    }
    return { accepted, duplicates: ids.length - accepted, late: 0 };
  });
}
