import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cleanSchema, isEmptyObjectSchema } from './clean-schema.js';

describe('cleanSchema', () => {
  test('a zod-generated schema loses what Gemini rejects and keeps its meaning', () => {
    const zod = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      title: 'Weather',
      properties: {
        city: { type: 'string', title: 'City', description: 'City name', minLength: 1 },
        unit: { type: 'string', enum: ['c', 'f'], default: 'c' },
        days: { type: 'integer', exclusiveMinimum: 0, maximum: 14 },
      },
      required: ['city'],
      additionalProperties: false,
      strict: true,
    };
    const { schema, dropped } = cleanSchema(zod);
    assert.deepEqual(schema, {
      type: 'object',
      properties: {
        city: { type: 'string', description: 'City name', minLength: 1 },
        unit: { type: 'string', enum: ['c', 'f'] },
        days: { type: 'integer', minimum: 0, maximum: 14 },
      },
      required: ['city'],
    });
    for (const kw of ['$schema', 'additionalProperties', 'strict', 'title', 'default', 'exclusiveMinimum']) {
      assert.ok(dropped.some((d) => d.includes(kw)), `reports ${kw}`);
    }
  });

  test('a nullable type list becomes type + nullable (a list type fails the proto)', () => {
    const { schema } = cleanSchema({ type: 'object', properties: { note: { type: ['string', 'null'] } } });
    assert.deepEqual(schema, { type: 'object', properties: { note: { type: 'string', nullable: true } } });
  });

  test('anyOf with a null branch collapses to the other branch, nullable', () => {
    const { schema } = cleanSchema({ anyOf: [{ type: 'number', minimum: 1 }, { type: 'null' }] });
    assert.deepEqual(schema, { type: 'number', minimum: 1, nullable: true });
  });

  test('several real types become anyOf; oneOf is sent as anyOf', () => {
    assert.deepEqual(cleanSchema({ type: ['string', 'number'] }).schema, { anyOf: [{ type: 'string' }, { type: 'number' }] });
    const { schema, dropped } = cleanSchema({ oneOf: [{ type: 'string' }, { type: 'boolean' }] });
    assert.deepEqual(schema, { anyOf: [{ type: 'string' }, { type: 'boolean' }] });
    assert.ok(dropped.some((d) => d.includes('oneOf')));
  });

  test('$ref to $defs is inlined; a recursive ref is cut instead of looping', () => {
    const { schema } = cleanSchema({
      type: 'object',
      properties: { home: { $ref: '#/$defs/Address' } },
      $defs: { Address: { type: 'object', properties: { street: { type: 'string' } }, additionalProperties: false } },
    });
    assert.deepEqual(schema, { type: 'object', properties: { home: { type: 'object', properties: { street: { type: 'string' } } } } });

    const recursive = cleanSchema({
      $ref: '#/definitions/Node',
      definitions: { Node: { type: 'object', properties: { child: { $ref: '#/definitions/Node' } } } },
    });
    assert.equal(recursive.schema.type, 'object');
    assert.ok(recursive.dropped.some((d) => d.includes('$ref')));
  });

  test('const becomes a one-value enum; numeric enums travel as strings', () => {
    assert.deepEqual(cleanSchema({ const: 'fixed' }).schema, { enum: ['fixed'], type: 'string' });
    assert.deepEqual(cleanSchema({ type: 'integer', enum: [1, 2, 3] }).schema, { type: 'string', enum: ['1', '2', '3'] });
  });

  test('allOf merges properties and required', () => {
    const { schema } = cleanSchema({
      allOf: [
        { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
        { properties: { b: { type: 'number' } }, required: ['b'] },
      ],
    });
    assert.deepEqual(schema, { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a', 'b'] });
  });

  test('string formats other than enum/date-time are dropped, number formats kept', () => {
    const { schema } = cleanSchema({
      type: 'object',
      properties: { mail: { type: 'string', format: 'email' }, at: { type: 'string', format: 'date-time' }, n: { type: 'number', format: 'double' } },
    });
    assert.deepEqual(schema.properties, { mail: { type: 'string' }, at: { type: 'string', format: 'date-time' }, n: { type: 'number', format: 'double' } });
  });

  test('required names that are not properties, and empty properties maps, are removed', () => {
    const { schema } = cleanSchema({
      type: 'object',
      properties: { a: { type: 'string' }, opts: { type: 'object', properties: {} } },
      required: ['a', 'ghost'],
    });
    assert.deepEqual(schema, { type: 'object', properties: { a: { type: 'string' }, opts: { type: 'object' } }, required: ['a'] });
  });

  test('a property called "title" or "default" is a name, not a keyword', () => {
    const { schema } = cleanSchema({ type: 'object', properties: { title: { type: 'string' }, default: { type: 'boolean' } } });
    assert.deepEqual(schema.properties, { title: { type: 'string' }, default: { type: 'boolean' } });
  });

  test('array items are cleaned; tuple items keep the first', () => {
    const { schema } = cleanSchema({ type: 'array', items: { type: 'object', properties: { x: { type: 'string', examples: ['a'] } } }, uniqueItems: true });
    assert.deepEqual(schema, { type: 'array', items: { type: 'object', properties: { x: { type: 'string' } } } });
    assert.deepEqual(cleanSchema({ type: 'array', items: [{ type: 'string' }, { type: 'number' }] }).schema, { type: 'array', items: { type: 'string' } });
  });

  test('isEmptyObjectSchema recognises a no-argument function', () => {
    assert.equal(isEmptyObjectSchema({ type: 'object', properties: {} }), true);
    assert.equal(isEmptyObjectSchema({ type: 'object' }), true);
    assert.equal(isEmptyObjectSchema({ type: 'object', properties: { a: { type: 'string' } } }), false);
  });
});
