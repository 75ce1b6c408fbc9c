// Tokenise files with the extension's TextMate grammar, as VS Code does (vscode-textmate on
// the Oniguruma regex engine): `node tokenize.js FILE...` prints, for each file, its lines'
// tokens as JSON: [[{"text", "scopes"}...] per line]. Used by tests/test_vscode_grammar.py.
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.join(__dirname, "..");
const wasm = fs.readFileSync(path.join(root, "node_modules/vscode-oniguruma/release/onig.wasm")).buffer;
const onigLib = oniguruma.loadWASM(wasm).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (text) => new oniguruma.OnigString(text),
}));

const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async (scopeName) => {
    if (scopeName !== "source.lecture") {
      return null; // embedded LaTeX: VS Code's own grammar, absent here
    }
    const file = path.join(root, "syntaxes/lecture.tmLanguage.json");
    return vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
  },
});

async function main() {
  const grammar = await registry.loadGrammar("source.lecture");
  const out = {};
  for (const file of process.argv.slice(2)) {
    let stack = vsctm.INITIAL;
    out[file] = fs.readFileSync(file, "utf8").split("\n").map((line) => {
      const result = grammar.tokenizeLine(line, stack);
      stack = result.ruleStack;
      return result.tokens.map((t) => ({ text: line.substring(t.startIndex, t.endIndex), scopes: t.scopes }));
    });
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
