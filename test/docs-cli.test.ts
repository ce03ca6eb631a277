// docs/cli.md is the --help of every command, so the reference never drifts from the tool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cliPath, repoRoot } from './helpers/paths.js';

const COMMANDS = [[], ['snapshot'], ['list'], ['lsof', 'import'], ['recover'], ['relink'], ['image', 'scan'], ['image', 'extract'], ['report'], ['triage']];

function reference(): string {
  const sections = COMMANDS.map((command) => {
    const help = execFileSync(process.execPath, [cliPath, ...command, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
    return `## unlinked ${command.join(' ')}`.trimEnd() + `\n\n\`\`\`\n${help.trimEnd()}\n\`\`\`\n`;
  });
  return `# CLI reference\n\nGenerated from \`--help\` (rewrite with \`UPDATE_GOLDEN=1 npm test\`). Global options (\`--case\`, \`--json\`, \`-q\`, \`-v\`) work before or after the command.\n\n${sections.join('\n')}`;
}

test('docs/cli.md matches --help of every command', () => {
  const file = path.join(repoRoot, 'docs', 'cli.md');
  const actual = reference();
  if (process.env['UPDATE_GOLDEN'] === '1' || !fs.existsSync(file)) fs.writeFileSync(file, actual);
  assert.equal(fs.readFileSync(file, 'utf8'), actual);
});

test('every command has an example in its --help', () => {
  for (const command of COMMANDS.slice(1)) {
    const help = execFileSync(process.execPath, [cliPath, ...command, '--help'], { encoding: 'utf8' });
    assert.match(help, /Examples?:\n\s+(sudo )?npx unlinked /, command.join(' '));
  }
});

test('npx unlinked, as the README runs it, with npm\'s cache empty (a fresh machine after npm ci): the CLI runs as built, not compiled again by the prepare script npm exec runs when it links the package into its cache', (t) => {
  const cache = fs.mkdtempSync(path.join('/tmp', 'unlinked-npx-cache-'));
  t.after(() => fs.rmSync(cache, { recursive: true, force: true }));
  const built = fs.statSync(cliPath).mtimeMs;
  const out = execFileSync('npx', ['--loglevel', 'info', 'unlinked', '--version'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, npm_config_cache: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(out, `${(JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  assert.equal(fs.statSync(cliPath).mtimeMs, built, 'dist/ was not built again');
  // npm exec did link the package into its cache (the step that runs prepare): the case this test is for.
  assert.ok(fs.readdirSync(path.join(cache, '_npx')).length > 0);
});
