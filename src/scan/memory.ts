/**
 * Keeping a long scan's memory flat.
 *
 * A scan allocates a little per host and drops it, but the hosts in flight survive a young-generation collection or
 * two, so V8 keeps doubling the young generation up to its maximum (16 MB per semi-space on 64-bit Node 20, ~34 MB
 * of new space) and the old generation fills with what got promoted. Measured on a /16 at --depth negotiate with
 * 256 in flight: peak RSS 155–158 MB, and still growing between /20 and /16.
 *
 * `--semi-space-growth-factor` is read each time V8 considers growing the new space, so setting it to 1 once the
 * scan starts stops that growth where it is (a few MB): the same /16 then peaks at ~110–130 MB and /20 ≈ /16, for
 * ~20 % more CPU in scavenges — irrelevant at negotiate depth, where the network dominates. (The heap-size flags
 * proper, --max-semi-space-size and friends, only apply at startup; Node documents run-time flag changes as
 * "use with care": this one only changes a growth heuristic, and if V8 ignores it nothing else changes.)
 *
 * Not used for --depth reach: there the main thread's CPU is the bottleneck and the extra scavenges cost rate.
 */
import v8 from 'node:v8';

let applied = false;

export function capYoungGeneration(): void {
  if (applied || process.env.RDPROBE_NO_HEAP_CAP === '1') return;
  applied = true;
  try {
    v8.setFlagsFromString('--semi-space-growth-factor=1');
  } catch {
    /* not supported: the scan works the same, with more memory */
  }
}
