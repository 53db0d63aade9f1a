// What `replay` says once on stderr about a file that carries no causes but has problem
// verdicts (a tcpdump file, a recording made with --no-cause or before causes existed).
export const NO_CAUSES_NOTE =
  'hopscope: replay: no causes: the recording carries none (made without cause gathering, or not by hopscope capture)\n';
