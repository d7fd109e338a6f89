// Parses each Mermaid file named on the command line with Mermaid's own
// parser (the `mermaid` npm package, in a jsdom window), from the tools
// directory that scripts/install_real_tools.sh fills ($AICR_TOOLS_DIR).
// Prints "<file> ok <diagram type>" or "<file> error <message>"; exits 1
// when any file does not parse.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const tools = process.env.AICR_TOOLS_DIR;
const require = createRequire(`${tools}/package.json`);
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const entry = `${tools}/node_modules/mermaid/dist/mermaid.core.mjs`;
const { default: mermaid } = await import(pathToFileURL(entry).href);
mermaid.initialize({ startOnLoad: false });

let bad = 0;
for (const file of process.argv.slice(2)) {
  try {
    const result = await mermaid.parse(readFileSync(file, 'utf8'));
    console.log(file, 'ok', result.diagramType);
  } catch (e) {
    bad += 1;
    console.log(file, 'error', e?.message ?? String(e));
  }
}
process.exit(bad ? 1 : 0);
