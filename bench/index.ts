/** `npm run bench`: every figure and ratio below is measured in this one run. */
import { runAccessBench } from './access';
import { runAdapterBench } from './adapter';
import { runAccountingBench, runPerfBenchScale } from './accounting';
import { runCrowdedBench } from './crowded';
import { runEstimateBench } from './estimates';
import { runManyThreadsBench, runTargetBench, runTimelineBench as runRecordingBench } from './target';
import { runTimelineBench as runTimelineDrawBench } from './timeline';

const write = (s: string) => console.log(s);
write(`hwbp-debug benchmarks — node ${process.version}, ${new Date().toISOString()}`);
const only = process.argv[2];
async function main(): Promise<void> {
  if (only === undefined || only === 'accounting') runAccountingBench(write);
  if (only === undefined || only === 'perfbench') runPerfBenchScale(write);
  if (only === undefined || only === 'access') await runAccessBench(write);
  if (only === undefined || only === 'target') runTargetBench(write);
  if (only === undefined || only === 'threads') runManyThreadsBench(write);
  if (only === undefined || only === 'recording') runRecordingBench(write);
  if (only === undefined || only === 'crowded') runCrowdedBench(write);
  if (only === undefined || only === 'estimates') runEstimateBench(write);
  if (only === undefined || only === 'adapter') await runAdapterBench(write);
  if (only === undefined || only === 'timeline') runTimelineDrawBench(write);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
