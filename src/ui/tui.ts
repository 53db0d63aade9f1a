// The terminal UI (a sink: docs/architecture.md; the only importer of blessed). It places the
// panels that render.ts computes — header, interfaces, exchanges (problems first) —
// and the ladder of the selected exchange (ladder.ts), and handles the keys. Redraws
// are throttled to 10 per second and happen only when something changed.
import blessed from 'blessed';
import { ladderLines } from './ladder.js';
import { VIEWS, type TuiModel } from './model.js';
import { groupLine, headerLine, HELP_TEXT, interfaceLines, tabsLine, whyLine } from './render.js';

const REDRAW_MS = 100;
const TICK_MS = 1000;

export interface TuiOptions {
  /** called once when the user quits (q, Ctrl-C) */
  onQuit: () => void;
  /** `r`: stop the recording, or start one (live capture only; the caller updates the model) */
  onRecord?: () => void;
}

/** Kernel drops in red, an interface gone or retrying in yellow (the text says it too). */
export function colourInterface(line: string): string {
  return blessed
    .escape(line)
    .replace(/! \d+ dropped/, (m) => `{red-fg}${m}{/red-fg}`)
    .replace(/ (GONE|RETRYING|STOPPED) /, (m) => `{yellow-fg}${m}{/yellow-fg}`);
}

const STATUS_COLOURS: Record<string, string> = {
  LOST: 'red',
  UNANSWERED: 'red',
  ERROR: 'magenta',
  INCONCLUSIVE: 'yellow',
  OK: 'green',
};

/** A table row (escaped already) with its status word coloured. */
export function colourStatus(row: string): string {
  const word = /^[A-Z]+/.exec(row)?.[0] ?? '';
  const colour = STATUS_COLOURS[word];
  return colour === undefined ? row : `{${colour}-fg}${word}{/${colour}-fg}${row.slice(word.length)}`;
}

export class Tui {
  readonly #model: TuiModel;
  readonly #screen: blessed.Widgets.Screen;
  readonly #header: blessed.Widgets.BoxElement;
  readonly #ifaces: blessed.Widgets.BoxElement;
  /**
   * The exchanges table: a plain box showing only the rows that fit (thousands of rows
   * handed to a blessed list would be parsed on every redraw); selection and scrolling
   * are ours.
   */
  readonly #table: blessed.Widgets.BoxElement;
  #selected = 0;
  #top = 0;
  readonly #ladder: blessed.Widgets.BoxElement;
  readonly #help: blessed.Widgets.BoxElement;
  readonly #prompt: blessed.Widgets.TextboxElement;
  #dirty = true;
  #shown: ReturnType<TuiModel['visibleGroups']> = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #destroyed = false;

  constructor(model: TuiModel, options: TuiOptions) {
    this.#model = model;
    this.#screen = blessed.screen({
      smartCSR: true,
      title: 'hopscope',
      fullUnicode: true,
      autoPadding: false,
    });
    this.#header = blessed.box({
      parent: this.#screen,
      top: 0,
      left: 0,
      width: '100%',
      height: 1,
      tags: false,
      style: { inverse: true },
    });
    this.#ifaces = blessed.box({
      parent: this.#screen,
      top: 1,
      left: 0,
      width: '100%',
      height: '35%',
      label: ' interfaces ',
      border: { type: 'line' },
      tags: true,
      wrap: false,
    });
    this.#table = blessed.box({
      parent: this.#screen,
      top: '35%+1',
      left: 0,
      width: '100%',
      height: '65%-1',
      label: ' exchanges (problems first) — Enter: ladder, /: filter, ?: help ',
      border: { type: 'line' },
      tags: true,
      // rows are cut to the width already; a wrapped row would push the others down
      wrap: false,
    });
    this.#ladder = blessed.box({
      parent: this.#screen,
      top: 'center',
      left: 'center',
      width: '95%',
      height: '80%',
      label: ' ladder — Esc to close ',
      border: { type: 'line' },
      hidden: true,
      scrollable: true,
      keys: true,
    });
    this.#help = blessed.box({
      parent: this.#screen,
      top: 'center',
      left: 'center',
      width: 92,
      height: 15,
      border: { type: 'line' },
      hidden: true,
      content: HELP_TEXT,
    });
    this.#prompt = blessed.textbox({
      parent: this.#screen,
      bottom: 0,
      left: 0,
      width: '100%',
      height: 1,
      hidden: true,
      inputOnFocus: true,
    });
    this.#table.focus();

    const quit = (): void => {
      this.destroy();
      options.onQuit();
    };
    this.#screen.key(['q', 'C-c'], () => {
      if (this.#prompt.visible) return;
      quit();
    });
    this.#screen.key(['enter'], () => {
      if (this.#prompt.visible || !this.#ladder.hidden) return;
      const group = this.#shown[this.#selected];
      if (group === undefined) return;
      const ex = group.latest;
      this.#ladder.setLabel(
        group.count > 1
          ? ` ladder — the newest of ${group.count} — Esc to close `
          : ' ladder — Esc to close ',
      );
      const width = Math.max(40, (this.#screen.width as number) - 8);
      this.#ladder.setContent(ladderLines(ex, width).join('\n'));
      this.#ladder.show();
      this.#ladder.focus();
      this.#render();
    });
    this.#screen.key(['escape'], () => {
      if (!this.#ladder.hidden) this.#ladder.hide();
      if (!this.#help.hidden) this.#help.hide();
      this.#table.focus();
      this.#render();
    });
    this.#screen.key(['?'], () => {
      if (this.#prompt.visible) return;
      if (this.#help.hidden) this.#help.show();
      else this.#help.hide();
      this.#render();
    });
    this.#screen.key(['1', '2', '3', '4', '5', '6'], (ch: string) => {
      if (this.#prompt.visible) return;
      this.#model.view = VIEWS[Number(ch) - 1] ?? 'all';
      this.#selected = 0;
      this.#render();
    });
    this.#screen.key(['+', '-'], (ch: string) => {
      if (this.#prompt.visible || this.#model.speed === null) return;
      this.#model.speed =
        ch === '+' ? Math.min(this.#model.speed * 2, 1024) : Math.max(this.#model.speed / 2, 1 / 64);
      this.#dirty = true;
      this.#render();
    });
    this.#screen.key(['p'], () => {
      if (this.#prompt.visible) return;
      this.#model.paused = !this.#model.paused;
      this.#dirty = true;
      this.#render();
    });
    // Moving in the table (not while the ladder, the help or the filter prompt is up).
    const move = (to: (rows: number) => number): void => {
      if (this.#prompt.visible || !this.#ladder.hidden || !this.#help.hidden) return;
      this.#selected = Math.max(0, Math.min(to(this.#tableRows()), this.#shown.length - 1));
      this.#render();
    };
    this.#screen.key(['up', 'k'], () => move(() => this.#selected - 1));
    this.#screen.key(['down', 'j'], () => move(() => this.#selected + 1));
    this.#screen.key(['pageup'], () => move((rows) => this.#selected - rows));
    this.#screen.key(['pagedown'], () => move((rows) => this.#selected + rows));
    this.#screen.key(['home', 'g'], () => move(() => 0));
    this.#screen.key(['end', 'S-g'], () => move(() => this.#shown.length - 1));
    this.#screen.key(['r'], () => {
      if (this.#prompt.visible) return;
      if (options.onRecord === undefined)
        this.#model.note('r records live captures; a replay reads one already');
      else options.onRecord();
      this.#dirty = true;
      this.#render();
    });
    this.#screen.key(['/'], () => {
      if (this.#prompt.visible) return;
      this.#prompt.setValue(this.#model.filter);
      this.#prompt.show();
      this.#prompt.readInput((err, value) => {
        this.#prompt.hide();
        if (!err && typeof value === 'string') this.#model.filter = value;
        this.#table.focus();
        this.#dirty = true;
        this.#render();
      });
      this.#screen.render();
    });
    this.#screen.on('resize', () => {
      this.#dirty = true;
      this.#render();
    });
    this.#timers.push(
      setInterval(() => {
        if (this.#dirty && !this.#model.paused) this.#render();
      }, REDRAW_MS),
      setInterval(() => {
        this.#model.tick();
        this.#dirty = true;
      }, TICK_MS),
    );
    this.#render();
  }

  /** Rows of the exchanges table inside its border. */
  #tableRows(): number {
    return Math.max(1, (this.#table.height as number) - 2);
  }

  /** Something changed: the next redraw (at most 10 per second) shows it. */
  changed(): void {
    this.#dirty = true;
  }

  #render(): void {
    if (this.#destroyed) return;
    this.#dirty = false;
    const width = (this.#screen.width as number) - 2;
    this.#header.setContent(headerLine(this.#model, width + 2));
    const ifaceLines = interfaceLines(this.#model, width);
    this.#ifaces.setContent(ifaceLines.map(colourInterface).join('\n'));
    // As tall as its lines (every interface visible), up to 45% of the screen; the
    // exchanges table takes the rest.
    const rows = this.#screen.height as number;
    const ifaceHeight = Math.max(3, Math.min(ifaceLines.length + 2, Math.floor(rows * 0.45)));
    this.#ifaces.height = ifaceHeight;
    this.#table.top = ifaceHeight + 1;
    this.#table.height = Math.max(3, rows - ifaceHeight - 1);
    this.#shown = this.#model.visibleGroups();
    this.#selected = Math.min(this.#selected, Math.max(0, this.#shown.length - 1));
    // The selected row's cause takes a line under it: one row fewer fits.
    const selectedWhy =
      this.#shown.length > 0 && this.#shown[this.#selected] !== undefined
        ? whyLine(this.#shown[this.#selected], width)
        : null;
    const visible = Math.max(1, this.#tableRows() - (selectedWhy !== null ? 1 : 0));
    if (this.#selected < this.#top) this.#top = this.#selected;
    else if (this.#selected >= this.#top + visible) this.#top = this.#selected - visible + 1;
    this.#top = Math.max(0, Math.min(this.#top, Math.max(0, this.#shown.length - visible)));
    const lines: string[] = [];
    for (let i = this.#top; i < Math.min(this.#shown.length, this.#top + visible); i++) {
      const text = blessed.escape(groupLine(this.#shown[i], width));
      lines.push(i === this.#selected ? `{inverse}${text}{/inverse}` : colourStatus(text));
      if (i === this.#selected && selectedWhy !== null) lines.push(blessed.escape(selectedWhy));
    }
    this.#table.setContent(lines.join('\n'));
    // The label must fit on the border (blessed would wrap it over the first row).
    const label = ` ${tabsLine(this.#model)} — problems first${this.#model.filter ? `, filter: ${this.#model.filter}` : ''} — Enter: ladder, /: filter, ?: help `;
    this.#table.setLabel(label.length > width - 2 ? `${label.slice(0, Math.max(0, width - 3))}…` : label);
    this.#screen.render();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#screen.destroy();
  }
}
