#!/usr/bin/env node
/**
 * Validates state machine definitions with amazon-states-language-service (the validator
 * behind the AWS editors): schema, unknown fields, unreachable states, wrong types.
 * Prints each diagnostic as file:line:col and exits non-zero when there is any.
 *
 *   node scripts/validate-asl.mjs [file.asl.json ...]   (default: statemachine/*.asl.json)
 */
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import aslService from 'amazon-states-language-service';
import { TextDocument } from 'vscode-languageserver-textdocument';

const { DiagnosticSeverity, getLanguageService } = aslService;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Diagnostics of one ASL text: `{ line, character, severity, message }[]` (1-based lines). */
export async function validateAsl(text, uri = 'file:///definition.asl.json') {
  const service = getLanguageService({});
  const document = TextDocument.create(uri, 'json', 1, text);
  const json = service.parseJSONDocument(document);
  const diagnostics = await service.doValidation(document, json);
  return diagnostics.map((d) => ({
    line: d.range.start.line + 1,
    character: d.range.start.character + 1,
    severity: d.severity === DiagnosticSeverity.Error ? 'error' : d.severity === DiagnosticSeverity.Warning ? 'warning' : 'info',
    message: d.message,
  }));
}

async function main(argv) {
  const files = argv.length
    ? argv
    : (await readdir(join(root, 'statemachine'))).filter((f) => f.endsWith('.asl.json')).map((f) => join(root, 'statemachine', f));
  if (files.length === 0) {
    console.error('validate-asl: no statemachine/*.asl.json found');
    return 1;
  }
  let problems = 0;
  for (const file of files) {
    const diagnostics = await validateAsl(await readFile(file, 'utf8'), pathToFileURL(file).href);
    for (const d of diagnostics) console.error(`${relative(process.cwd(), file)}:${d.line}:${d.character} ${d.severity}: ${d.message}`);
    problems += diagnostics.length;
    if (diagnostics.length === 0) console.log(`${relative(process.cwd(), file)}: valid`);
  }
  return problems === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
