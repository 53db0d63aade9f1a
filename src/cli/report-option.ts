// `--report FILE.html` of capture and replay: the page's name is checked before the run
// (refused if it exists unless --overwrite, never through a link: as -w's), and the
// page written when the run ends (src/sinks/html-report.ts).
import { HtmlReportFile } from '../sinks/html-report.js';
import { ReportFileError } from '../sinks/report-file.js';
import { UserError } from './errors.js';

export function openReport(
  path: string | undefined,
  overwrite: boolean,
  command: readonly string[],
  name: string,
): HtmlReportFile | null {
  if (path === undefined) return null;
  try {
    return HtmlReportFile.open(path, { overwrite, command: [...command] });
  } catch (err) {
    if (err instanceof ReportFileError) throw new UserError(`${name}: ${err.message}`);
    throw err;
  }
}

/** Writes the page; a name taken during the run is said, a write that fails is one line and exit 2. */
export function closeReport(report: HtmlReportFile | null, name: string): void {
  if (report === null) return;
  let written: string;
  try {
    written = report.close();
  } catch (err) {
    if (err instanceof ReportFileError) throw new UserError(`${name}: ${err.message}`);
    throw err;
  }
  if (written !== report.path)
    process.stderr.write(`hopscope: ${report.path} was taken meanwhile: the report is ${written}\n`);
}
