// Debian's chromium, headless, driven by playwright-core: the browser the system has
// (scripts/setup-system.sh installs it), never one downloaded — none can be here. Each
// launch has a fresh profile, and the switches that keep Chromium from reaching out on
// its own (updates, sync, field trials, QUIC probes), so that any request seen comes
// from the page.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface HeadlessChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a new profile; close() ends it and removes the profile. */
export async function headlessChromium(viewport = { width: 1360, height: 900 }): Promise<HeadlessChromium> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (scripts/setup-system.sh does, as root)`,
    );
  const profile = mkdtempSync(join(tmpdir(), 'hopscope-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport,
    });
    return {
      context,
      close: async () => {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}
