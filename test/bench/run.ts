// `npm run bench`: every bench/*.js module (but this one) exports `bench()`; each measures
// unlinked against its reference tool in the same run and prints the ratio.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchResult {
  name: string;
  /** Seconds (or MB for memory figures), ours and the reference's. */
  ours: number;
  reference: number;
  referenceName: string;
  unit: 's' | 'MB';
  /** Target ratio ours/reference, if the issue names one. */
  target?: number;
  note?: string;
}

export type BenchModule = { bench: (options: { only?: string }) => Promise<BenchResult[]> };

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const only = process.argv[2];
  const modules = fs.readdirSync(here).filter((name) => name.endsWith('.js') && name !== 'run.js' && true);
  const results: BenchResult[] = [];
  for (const name of modules.sort()) {
    if (only !== undefined && !name.startsWith(only)) continue;
    const module = (await import(pathToFileURL(path.join(here, name)).href)) as Partial<BenchModule>;
    if (typeof module.bench !== 'function') continue; // a helper module, not a bench
    process.stderr.write(`bench ${name} ...\n`);
    const produced = await module.bench(only === undefined ? {} : { only });
    for (const result of produced) {
      results.push(result);
      printResult(result);
    }
  }
  const failed = results.filter((result) => result.target !== undefined && result.ours / result.reference > result.target);
  process.stdout.write(`\n${results.length} figures, ${failed.length} over target\n`);
}

function printResult(result: BenchResult): void {
  const ratio = result.ours / result.reference;
  const target = result.target === undefined ? '' : ` (target <= ${result.target}x: ${ratio <= result.target ? 'met' : 'MISSED'})`;
  process.stdout.write(
    `${result.name}: ${result.ours.toFixed(3)} ${result.unit} vs ${result.referenceName} ${result.reference.toFixed(3)} ${result.unit} = ${ratio.toFixed(2)}x${target}${result.note === undefined ? '' : ` — ${result.note}`}\n`,
  );
}

await main();
