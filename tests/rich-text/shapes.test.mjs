// Every fixture tree has mdast's node shapes (mdast.schema.json, checked with Ajv), and
// none holds active content: the hostile corpus's neither.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'

import Ajv from 'ajv'

import {pageOf, pages, walk} from './pages.mjs'

const schema = JSON.parse(readFileSync(new URL('./mdast.schema.json', import.meta.url), 'utf8'))
const validate = new Ajv({allErrors: true, strict: false}).compile(schema)

// What a URL check ignores (as browsers do): white space and control characters.
const IGNORED = /[\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2060\ufeff]+/g
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'tel'])
// Markup that runs or loads something, in an html node's value.
const ACTIVE = [
  /<\s*(script|iframe|object|embed|style|link|meta|base|form|input|svg|math)\b/i,
  /\son[a-z]+\s*=/i,
  /(javascript|vbscript|data)\s*:/i
]

const summary = (errors) =>
  errors.map((error) => `${error.instancePath} ${error.message}`).join('\n')

for (const page of pages) {
  test(`shapes: ${page.site} ${page.path}`, () => {
    assert.ok(validate(page.ast), summary(validate.errors || []))
  })
}

test('no tree holds active content (the hostile corpus included)', () => {
  const found = []
  for (const page of pages) {
    for (const [node] of walk(page.ast)) {
      if (node.type === 'html' && ACTIVE.some((pattern) => pattern.test(node.value))) {
        found.push(`${page.path}: html ${node.value}`)
      }
      if (node.type === 'link' || node.type === 'image') {
        const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(node.url.replace(IGNORED, ''))
        if (scheme && !SAFE_SCHEMES.has(scheme[1].toLowerCase())) {
          found.push(`${page.path}: ${node.type} ${node.url}`)
        }
      }
    }
  }
  assert.deepEqual(found, [])
  const hostile = pages.filter((page) => page.site === 'hostile')
  assert.ok(hostile.length >= 17, `only ${hostile.length} hostile pages`)
})

test('the seed tree: The Method, the ten indications, curly quotes, no amp- and no carousel', () => {
  const seed = pageOf('seed', 'mesotherapy.md')
  const children = seed.ast.children
  const text = (node) =>
    node.type === 'text' ? node.value : (node.children || []).map(text).join('')
  const method = children.find((node) => node.type === 'heading' && node.depth === 4)
  assert.equal(text(method), 'The Method')
  assert.equal(method.data.id, 'the-method')
  const at = children.findIndex((node) => node.type === 'heading' && node.depth === 5)
  assert.equal(text(children[at]), 'Mesotherapy also can help with:')
  const list = children[at + 1]
  assert.equal(list.type, 'list')
  assert.deepEqual(
    list.children.map((item) => [item.type, text(item)]),
    [
      'Facelift',
      'Redundant (sagging) skin',
      'Hand rejuvenation',
      'Neck rejuvenation',
      'Hair loss',
      'Cellulite',
      'Dissolving excess fatty deposits',
      'Removing fibroids and hardened connective tissue',
      'Improving lymphatic drainage',
      'Reducing inflammation'
    ].map((name) => ['listItem', name])
  )
  assert.ok(text(seed.ast).includes('“MESO” in Greek means “Middle”'))
  const written = JSON.stringify(seed.ast)
  assert.ok(!written.includes('amp-'), written)
  assert.ok(!written.includes('carousel'), written)
  assert.ok(![...walk(seed.ast)].some(([node]) => node.type === 'image'))
})
