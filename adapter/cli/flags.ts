// A small flag parser for the CLI: `--name value`, `--name=value`, boolean `--name`,
// and positional arguments. Errors are sentences for the user.

export interface ParsedFlags {
  flags: Record<string, string | boolean>;
  positional: string[];
}

export function parseFlags(args: string[], valued: string[], booleans: string[]): ParsedFlags | string {
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(args[i]);
    if (!m) {
      positional.push(args[i]);
      continue;
    }
    const [, name, inline] = m;
    if (booleans.includes(name)) flags[name] = true;
    else if (valued.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) return `--${name} needs a value.`;
      flags[name] = value;
    } else return `unknown option --${name}.`;
  }
  return { flags, positional };
}
