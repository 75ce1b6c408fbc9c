// The Lecture extension: starts `lecture lsp` (diagnostics, completion, hover, navigation,
// formatting, code actions come from the server) and shows the watch page beside the editor.
"use strict";

const path = require("path");
const vscode = require("vscode");
const { LanguageClient, ExecuteCommandRequest } = require("vscode-languageclient/node");

let client;
let panel;
let panelBase; // the watch page's URL, without the section
let panelUri; // the lesson the panel shows

function serverCommand() {
  const config = vscode.workspace.getConfiguration("lecture");
  let command = config.get("server.command", "lecture");
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  if (folder && command.includes("/") && !path.isAbsolute(command)) {
    command = path.join(folder.uri.fsPath, command);
  }
  return command;
}

function startClient(context) {
  const config = vscode.workspace.getConfiguration("lecture");
  const serverOptions = { command: serverCommand(), args: ["lsp"] };
  const clientOptions = {
    documentSelector: [{ language: "lecture" }],
    initializationOptions: {
      pause: config.get("checks.pause", 1.0),
      layout: config.get("checks.layout", true),
      narration: config.get("checks.narration", true),
      quality: config.get("preview.quality", "low"),
    },
  };
  client = new LanguageClient("lecture", "Lecture", serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start();
}

// The page is served on 127.0.0.1 by the watch server that `lecture lsp` starts; a webview
// shows it in an iframe (asExternalUri makes it reachable from a remote window too). The
// webview passes messages both ways: the cursor's section and step go to the page
// ({type: "lecture.show", section, step}; the section by the URL's #section-ID), and a click
// on the page's picture comes back ({type: "lecture.click", section, step, x, y}, x and y as
// fractions of the picture from its top-left) to be revealed in the editor.
function pageHtml(base, section) {
  const src = base + (section ? "#section-" + section : "");
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; frame-src http://127.0.0.1:* http://localhost:* https:; style-src 'unsafe-inline'; script-src 'unsafe-inline';">
<style>html, body, iframe { margin: 0; padding: 0; border: 0; width: 100%; height: 100%; overflow: hidden; }</style>
</head><body><iframe id="page" src="${src}" allow="autoplay"></iframe>
<script>
const vscode = acquireVsCodeApi();
const page = document.getElementById("page");
const base = ${JSON.stringify(base)};
window.addEventListener("message", (event) => {
  const data = event.data || {};
  if (event.source === page.contentWindow && data.type === "lecture.click") {
    vscode.postMessage(data);
  } else if (data.type === "lecture.show") {
    const wanted = base + (data.section ? "#section-" + data.section : "");
    if (page.src !== wanted) { page.src = wanted; }  // only the fragment changes: no reload
    page.contentWindow.postMessage(data, "*");
  }
});
</script></body></html>`;
}

function openPanel(base, section) {
  if (!panel) {
    panel = vscode.window.createWebviewPanel("lecturePreview", "Lecture preview",
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, retainContextWhenHidden: true });
    panel.onDidDispose(() => { panel = undefined; panelBase = undefined; panelUri = undefined; });
    panel.webview.onDidReceiveMessage((message) => {
      if (message.type === "lecture.click" && panelUri) {
        client.sendRequest(ExecuteCommandRequest.type, {
          command: "lecture.reveal",
          arguments: [panelUri, message.section, message.step ?? null, message.x, message.y, true],
        });
      }
    });
  }
  if (panelBase !== base) {
    panelBase = base;
    panel.webview.html = pageHtml(base, section);
  }
  panel.reveal(vscode.ViewColumn.Beside, true);
}

async function showPreview(editor) {
  editor = editor || vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "lecture") {
    vscode.window.showInformationMessage("Open a .lecture lesson to preview it.");
    return;
  }
  if (editor.document.isDirty) {
    await editor.document.save(); // the watch server renders what is saved
  }
  const uri = editor.document.uri.toString();
  const result = await client.sendRequest(ExecuteCommandRequest.type, {
    command: "lecture.preview",
    arguments: [uri, editor.selection.active.line, false],
  });
  const [base, fragment] = result.url.split("#");
  const external = (await vscode.env.asExternalUri(vscode.Uri.parse(base))).toString();
  panelUri = uri;
  openPanel(external, fragment ? fragment.replace(/^section-/, "") : null);
  await followCursor(editor);
}

// The preview follows the cursor: the section it is in, and the step.
async function followCursor(editor) {
  if (!panel || editor.document.uri.toString() !== panelUri) {
    return;
  }
  const where = await client.sendRequest(ExecuteCommandRequest.type, {
    command: "lecture.stepAt",
    arguments: [panelUri, editor.selection.active.line],
  });
  if (where && panel) {
    panel.webview.postMessage({ type: "lecture.show", section: where.section, step: where.step });
  }
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("lecture.showPreview", () => showPreview()),
    vscode.commands.registerCommand("lecture.restartServer", async () => {
      if (client) {
        await client.stop();
      }
      await startClient(context);
    }),
    vscode.window.onDidChangeTextEditorSelection(async (event) => {
      const follow = vscode.workspace.getConfiguration("lecture").get("preview.followCursor", true);
      if (follow && event.textEditor.document.languageId === "lecture") {
        try {
          await followCursor(event.textEditor);
        } catch (error) {
          // the server is restarting: the next move tries again
        }
      }
    }),
  );
  return startClient(context);
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
