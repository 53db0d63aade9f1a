#!/usr/bin/env node
// Makes docs/report-dvr-fip.png, the picture of the HTML report in the README: the
// report of the shipped dvr-fip recording (the security group drops what comes in to
// the VM), from the records `replay --json` prints, opened in Debian's headless
// chromium (never a downloaded browser) and photographed from its top to the end of
// the first problem exchange. Run after `npm run build`:
//
//   node scripts/report-screenshot.mjs [--out FILE.png]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const out = args[0] === '--out' && args[1] ? args[1] : join(root, 'docs', 'report-dvr-fip.png');
const recording = 'captures/dvr-fip-sg-drop.pcapng';

const { HtmlReportFile } = await import(pathToFileURL(join(root, 'dist/sinks/html-report.js')).href);

const work = mkdtempSync(join(tmpdir(), 'hopscope-report-shot-'));
try {
  let stdout;
  try {
    stdout = execFileSync(process.execPath, [join(root, 'bin/hopscope.js'), 'replay', recording, '--json'], {
      cwd: root,
      encoding: 'utf8',
    });
  } catch (err) {
    // exit 1: lost exchanges found, as they are in this incident
    if (err.status !== 1) throw err;
    stdout = err.stdout;
  }
  const file = join(work, 'dvr-fip.html');
  const report = HtmlReportFile.open(file, {
    command: ['hopscope', 'replay', recording, '--report', 'dvr-fip.html'],
  });
  for (const line of stdout.trim().split('\n')) report.record(JSON.parse(line));
  report.close();

  const context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const end = await page.evaluate(
      `Math.ceil(document.querySelector('article.exchange').getBoundingClientRect().bottom) + 10`,
    );
    await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1360, height: end }, fullPage: true });
    console.log(`${out}: 1360×${end}`);
  } finally {
    await context.close();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
