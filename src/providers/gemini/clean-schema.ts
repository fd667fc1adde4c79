// JSON Schema (as clients write it: zod, LangChain, hand-written) → the OpenAPI-3.0 subset Gemini's
// `Schema` accepts. Gemini fails the WHOLE request on one unknown keyword ("Invalid JSON payload
// received. Unknown name \"additionalProperties\"…"), so this works by whitelist: whatever is not
// known to be accepted is removed and reported, never sent.

type Json = Record<string, unknown>;

/** Keywords Gemini's Schema proto knows; everything else is stripped. */
const KEPT_KEYWORDS = new Set([
  'type',
  'format',
  'description',
  'nullable',
  'enum',
  'properties',
  'required',
  'items',
  'anyOf',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minProperties',
  'maxProperties',
  'pattern',
  'propertyOrdering',
]);

// Gemini rejects any other string format ("only 'enum' and 'date-time' are supported for STRING type").
const STRING_FORMATS = new Set(['enum', 'date-time']);
const NUMBER_FORMATS = new Set(['float', 'double', 'int32', 'int64']);

/** Recursive $refs cannot be expressed; past this depth the schema is cut to its type. */
const MAX_REF_DEPTH = 8;

export interface CleanedSchema {
  schema: Json;
  /** Keywords removed or rewritten, as `path: keyword`, for onDrop. */
  dropped: string[];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Walk {
  defs: Json;
  dropped: string[];
  refDepth: number;
}

function resolveRef(ref: string, walk: Walk): Json | undefined {
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  if (!match) return undefined;
  const target = walk.defs[decodeURIComponent(match[1].replace(/~1/g, '/').replace(/~0/g, '~'))];
  return isObject(target) ? target : undefined;
}

/** allOf is an intersection; for the object schemas clients write, merging properties and required is exact enough. */
function mergeAllOf(schemas: Json[]): Json {
  const merged: Json = {};
  const properties: Json = {};
  const required: string[] = [];
  for (const s of schemas) {
    for (const [k, v] of Object.entries(s)) {
      if (k === 'properties' && isObject(v)) Object.assign(properties, v);
      else if (k === 'required' && Array.isArray(v)) required.push(...v.filter((x): x is string => typeof x === 'string'));
      else if (!(k in merged)) merged[k] = v;
    }
  }
  if (Object.keys(properties).length > 0) merged.properties = properties;
  if (required.length > 0) merged.required = [...new Set(required)];
  return merged;
}

function isNullSchema(s: unknown): boolean {
  return isObject(s) && (s.type === 'null' || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === 'null'));
}

function cleanNode(input: Json, path: string, walk: Walk): Json {
  let node = input;

  if (typeof node.$ref === 'string') {
    const target = walk.refDepth < MAX_REF_DEPTH ? resolveRef(node.$ref, walk) : undefined;
    if (!target) {
      walk.dropped.push(`${path}: $ref ${node.$ref}`);
      const { $ref: _ref, ...rest } = node;
      node = Object.keys(rest).length > 0 ? rest : { type: 'object' };
    } else {
      const { $ref: _ref, ...siblings } = node;
      const inner = cleanNode({ ...target, ...siblings }, path, { ...walk, refDepth: walk.refDepth + 1 });
      return inner;
    }
  }

  if (Array.isArray(node.allOf)) {
    const parts = node.allOf.filter(isObject);
    const { allOf: _allOf, ...rest } = node;
    node = mergeAllOf([rest, ...parts]);
  }

  const out: Json = {};

  // A list type is not repeatable in the proto ("Proto field is not repeating, cannot start list").
  if (Array.isArray(node.type)) {
    const types = node.type.filter((t): t is string => typeof t === 'string');
    const nonNull = types.filter((t) => t !== 'null');
    if (types.length !== nonNull.length) out.nullable = true;
    if (nonNull.length === 1) out.type = nonNull[0];
    else if (nonNull.length > 1) out.anyOf = nonNull.map((t) => ({ type: t }));
  } else if (typeof node.type === 'string' && node.type !== 'null') {
    out.type = node.type;
  } else if (node.type === 'null') {
    out.nullable = true;
  }

  // oneOf has no Gemini equivalent; anyOf is the closest (a model rarely satisfies two branches at once).
  const alternatives = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (Array.isArray(node.oneOf)) walk.dropped.push(`${path}: oneOf (sent as anyOf)`);
  if (alternatives) {
    const nonNull = alternatives.filter((s) => !isNullSchema(s)).filter(isObject);
    if (nonNull.length !== alternatives.length) out.nullable = true;
    const cleaned = nonNull.map((s, i) => cleanNode(s, `${path}.anyOf[${i}]`, walk));
    if (cleaned.length === 1) Object.assign(out, cleaned[0], out.nullable ? { nullable: true } : {});
    else if (cleaned.length > 1) out.anyOf = cleaned;
  }

  if ('const' in node) {
    out.enum = [String(node.const)];
    if (!out.type) out.type = 'string';
  }

  for (const [key, value] of Object.entries(node)) {
    if (key === 'type' || key === 'anyOf' || key === 'oneOf' || key === 'const' || key === '$defs' || key === 'definitions') continue;
    if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      // Draft-6+ numeric form becomes the inclusive bound: slightly looser, never rejecting a valid value.
      if (typeof value === 'number') out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
      walk.dropped.push(`${path}: ${key} (sent as inclusive)`);
      continue;
    }
    if (!KEPT_KEYWORDS.has(key)) {
      walk.dropped.push(`${path}: ${key}`);
      continue;
    }
    switch (key) {
      case 'properties': {
        if (!isObject(value)) break;
        const props: Json = {};
        for (const [name, sub] of Object.entries(value)) {
          if (isObject(sub)) props[name] = cleanNode(sub, `${path}.properties.${name}`, walk);
        }
        // An empty `properties` map is rejected ("should be non-empty for OBJECT type"); no map is fine.
        if (Object.keys(props).length > 0) out.properties = props;
        break;
      }
      case 'items':
        if (isObject(value)) out.items = cleanNode(value, `${path}.items`, walk);
        else if (Array.isArray(value) && isObject(value[0])) {
          walk.dropped.push(`${path}: tuple items (first kept)`);
          out.items = cleanNode(value[0], `${path}.items`, walk);
        }
        break;
      case 'enum':
        if (Array.isArray(value)) {
          const values = value.filter((v) => v !== null);
          if (values.length !== value.length) out.nullable = true;
          // Gemini enums are strings only: numbers and booleans travel as their text.
          if (values.some((v) => typeof v !== 'string')) {
            walk.dropped.push(`${path}: non-string enum (sent as strings)`);
            out.type = 'string';
          }
          out.enum = values.map((v) => String(v));
        }
        break;
      case 'format':
        if (typeof value !== 'string') break;
        if (STRING_FORMATS.has(value) || NUMBER_FORMATS.has(value)) out.format = value;
        else walk.dropped.push(`${path}: format ${value}`);
        break;
      default:
        out[key] = value;
    }
  }

  if (Array.isArray(out.required) && out.properties === undefined) {
    delete out.required;
  } else if (Array.isArray(out.required) && isObject(out.properties)) {
    // Gemini rejects a required name that is not a property ("property is not defined").
    const known = out.properties;
    out.required = out.required.filter((name) => typeof name === 'string' && name in known);
    if ((out.required as unknown[]).length === 0) delete out.required;
  }
  if (Array.isArray(out.enum) && out.type === undefined) out.type = 'string';
  return out;
}

/** Cleans one schema; `defs` resolution uses the schema's own `$defs` / `definitions`. */
export function cleanSchema(schema: Record<string, unknown>, path = '$'): CleanedSchema {
  const defs: Json = { ...(isObject(schema.definitions) ? schema.definitions : {}), ...(isObject(schema.$defs) ? schema.$defs : {}) };
  const walk: Walk = { defs, dropped: [], refDepth: 0 };
  return { schema: cleanNode(schema, path, walk), dropped: walk.dropped };
}

/** `{type:"object"}` with no properties: a function without arguments, sent with no `parameters` at all. */
export function isEmptyObjectSchema(schema: Record<string, unknown>): boolean {
  return schema.type === 'object' && (!isObject(schema.properties) || Object.keys(schema.properties).length === 0) && !schema.anyOf;
}
