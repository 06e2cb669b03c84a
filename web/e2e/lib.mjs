// Shared by the end-to-end test and the benchmark: Debian's Chromium through
// playwright-core (its own browser download does not work on these machines).
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function launch() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    // a fresh profile per run
    env: { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'linkage-chromium-')) },
  });
}
