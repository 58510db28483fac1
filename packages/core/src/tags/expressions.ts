/**
 * The `{{…}}` expressions of metadata-action's rule attributes (a small subset of Handlebars:
 * a name, then quoted arguments and `key='value'` options), e.g. `{{branch}}`,
 * `{{date 'YYYYMMDD' tz='Asia/Tokyo'}}`. Helpers are given by the caller; an unknown name is an
 * error listing the known ones, where Handlebars would print nothing.
 */
export type ExpressionHelper = (args: string[], options: Record<string, string>) => string;

const EXPRESSION_RE = /\{\{([^{}]*)\}\}/g;
const TOKEN_RE = /\s*(?:([A-Za-z_]\w*)=(?:'([^']*)'|"([^"]*)")|'([^']*)'|"([^"]*)"|([A-Za-z_]\w*))/y;

export function renderExpressions(template: string, helpers: Record<string, ExpressionHelper>): string {
  return template.replace(EXPRESSION_RE, (_whole, body: string) => {
    const { name, args, options } = parseExpression(body);
    const helper = Object.prototype.hasOwnProperty.call(helpers, name) ? helpers[name] : undefined;
    if (!helper) {
      throw new Error(
        `{{${name}}} is not a known expression here; known: ${Object.keys(helpers)
          .map((k) => `{{${k}}}`)
          .join(', ')}`,
      );
    }
    return helper(args, options);
  });
}

/** True when the template is exactly `{{name}}` (spaces allowed), e.g. a semver `pattern={{raw}}`. */
export function isSingleExpression(template: string, name: string): boolean {
  return new RegExp(`^\\{\\{\\s*${name}\\s*\\}\\}$`).test(template);
}

function parseExpression(body: string): { name: string; args: string[]; options: Record<string, string> } {
  const args: string[] = [];
  const options: Record<string, string> = {};
  let name: string | undefined;
  TOKEN_RE.lastIndex = 0;
  let at = 0;
  while (at < body.length && body.slice(at).trim().length > 0) {
    TOKEN_RE.lastIndex = at;
    const m = TOKEN_RE.exec(body);
    if (!m) throw new Error(`cannot read the expression {{${body}}} near "${body.slice(at).trim()}"`);
    at = TOKEN_RE.lastIndex;
    if (m[1] !== undefined) options[m[1]] = m[2] ?? m[3] ?? '';
    else if (m[6] !== undefined && name === undefined) name = m[6];
    else if (name === undefined) throw new Error(`the expression {{${body}}} must start with a name`);
    else args.push(m[4] ?? m[5] ?? m[6] ?? '');
  }
  if (name === undefined) throw new Error('an expression {{}} is empty');
  return { name, args, options };
}
