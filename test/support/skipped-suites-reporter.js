/**
 * Jest reporter: repeats, after the run's summary, every console line a test file printed that starts with
 * "SKIPPED:". A test file whose tests are all skipped (the live OceanBase/seekdb suite without
 * OCEANBASE_TEST_URL) gets no result block from jest's default reporter when other files run, so its
 * explanation would otherwise not be seen.
 */
class SkippedSuitesReporter {
  constructor() {
    this.lines = [];
  }

  onTestResult(_test, result) {
    for (const entry of result.console ?? []) {
      if (typeof entry.message === 'string' && entry.message.startsWith('SKIPPED:')) this.lines.push(entry.message);
    }
  }

  onRunComplete() {
    for (const line of this.lines) process.stdout.write(`${line}\n`);
  }
}

module.exports = SkippedSuitesReporter;
