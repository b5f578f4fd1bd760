/** `npm run bench`: every figure and ratio below is measured in this one run. */
import { runAccessBench } from './access';
import { runAdapterBench } from './adapter';
import { runAccountingBench } from './accounting';
import { runTargetBench } from './target';

const write = (s: string) => console.log(s);
write(`hwbp-debug benchmarks — node ${process.version}, ${new Date().toISOString()}`);
async function main(): Promise<void> {
  runAccountingBench(write);
  await runAccessBench(write);
  runTargetBench(write);
  await runAdapterBench(write);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
