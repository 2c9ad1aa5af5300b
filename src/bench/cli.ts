// `toxrelay bench …`: parse, run (or compare), print. Exit status: 0 done, 1 the run failed
// (an error in the result), 2 usage error (thrown as CliError and printed by the CLI's main).

import { type BenchCommand, parseBenchArgs } from './args.ts';
import { cleanUpInterruptedCompare, type CompareReport, runCompare } from './compare.ts';
import { formatResult } from './format.ts';
import { benchHelpText } from './help.ts';
import { ProgressPrinter } from './progress.ts';
import { formatCompare, prepareOutDir, writeReport } from './report.ts';
import { runBench } from './run.ts';

export async function benchMain(argv: string[]): Promise<number> {
  const command = parseBenchArgs(argv);
  switch (command.kind) {
    case 'help':
      process.stdout.write(benchHelpText());
      return 0;
    case 'run': {
      const progress = command.quiet ? undefined : new ProgressPrinter();
      const result = await runBench(command.options, progress ? { onProgress: progress.update } : {});
      progress?.done();
      process.stdout.write(command.json ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result));
      return result.errors.length > 0 ? 1 : 0;
    }
    case 'compare':
      return compareCommand(command);
  }
}

async function compareCommand(command: Extract<BenchCommand, { kind: 'compare' }>): Promise<number> {
  await prepareOutDir(command.compare.outDir); // found unwritable now, not after the whole comparison
  // Interrupted (Ctrl-C, kill, a CI timeout): no relay or keys file is left behind. A second
  // signal takes Node's default and ends the process at once.
  let interruption: Promise<number> | undefined;
  const interrupted = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${signal}: stopping the relays; no report is written\n`);
    // Exits from here: the comparison may be in the middle of a run that would go on for seconds.
    interruption = cleanUpInterruptedCompare().then(() => (signal === 'SIGINT' ? 130 : 143));
    void interruption.then((code) => process.exit(code));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let printer: ProgressPrinter | undefined;
  let report: CompareReport;
  try {
    report = await runCompare(command.compare, {
      onRun: (relay, round, workload) => {
        if (command.quiet) return {};
        printer = new ProgressPrinter(process.stderr, `[${relay}, round ${round}] `);
        process.stderr.write(process.stderr.isTTY ? '' : `[${relay}, round ${round}] ${workload}: starting\n`);
        return { onProgress: printer.update };
      },
      onRunDone: (run) => {
        printer?.done();
        if (!command.quiet && !command.json) process.stderr.write(formatResult(run.result).replace(/^(?=.)/gm, '  ').replace(/^ {2}toxrelay bench:/, `  [${run.relay}, round ${run.round}]`));
      },
    });
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
  if (interruption) return await interruption; // what ran after the signal is not a report
  const files = await writeReport(report, command.compare.outDir);
  if (command.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${formatCompare(report)}\nreport: ${files.html}\n        ${files.json}\n`);
  const failed = report.runs.some((r) => r.result.errors.length > 0);
  return failed ? 1 : 0;
}
