// Every fixture page's ast, turned into HTML by the unified collective's own tools
// (mdast-util-to-hast, hast-util-to-html), is its html: both are parsed with
// hast-util-from-html and compared after normalising white space and attribute order.
// What still differs is listed below as a named exception, each with why; each must be
// needed by some page, so none outlives its reason.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {fromHtml} from 'hast-util-from-html'
import {toHtml} from 'hast-util-to-html'
import {toHast} from 'mdast-util-to-hast'
import {normalizeUri} from 'micromark-util-sanitize-uri'

import {pages} from './pages.mjs'

// Elements laid out as blocks: white space next to them is not content.
const BLOCKS = new Set([
  'address', 'blockquote', 'dd', 'details', 'div', 'dl', 'dt', 'figcaption', 'figure',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'li', 'ol', 'p', 'pre', 'root', 'summary',
  'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul'
])
// Where mdast puts a paragraph around phrasing content: flow containers (a list item's
// loose text is its tight paragraph, written bare by mdast-util-to-hast).
const FLOW = new Set(['root', 'blockquote'])
const WRAPPERS = new Set([
  'div', 'section', 'article', 'main', 'header', 'footer', 'aside', 'nav', 'center',
  'span', 'font', 'big'
])
// The attributes an mdast node has a field (or hProperties) for.
const KEPT_ATTRIBUTES = {
  a: ['href', 'title', 'hreflang'],
  img: ['src', 'alt', 'title', 'width', 'height'],
  ol: ['start'],
  h1: ['id'], h2: ['id'], h3: ['id'], h4: ['id'], h5: ['id'], h6: ['id']
}

const tagOf = (node) => (node.type === 'root' ? 'root' : node.tagName)
const isBlock = (node) => node.type === 'element' && BLOCKS.has(node.tagName)
const element = (tagName, children) => ({type: 'element', tagName, properties: {}, children})

// The elements an mdast node stands for; any other is an html node holding the element as
// html has it, which no exception touches.
const MAPPED = new Set([
  'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'blockquote', 'pre', 'code',
  'hr', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'em', 'i', 'strong', 'b',
  'del', 's', 'strike', 'br', 'a', 'img', ...WRAPPERS
])

/** The nodes of a tree with their parents, but what lies inside html nodes. */
function* mapped(node, parent = null) {
  yield [node, parent]
  if (node.type === 'element' && !MAPPED.has(node.tagName)) return
  for (const child of node.children || []) yield* mapped(child, node)
}

/** Replace each element for which `change` returns an array by that array, depth first. */
function rewrite(tree, change) {
  for (const [node] of mapped(tree)) {
    if (!node.children || (node.type === 'element' && !MAPPED.has(node.tagName))) continue
    node.children = node.children.flatMap((child) => {
      const replaced = child.type === 'element' ? change(child) : undefined
      return replaced === undefined ? [child] : replaced
    })
  }
  return tree
}

export const EXCEPTIONS = [
  {
    name: 'rel of links',
    why: 'the sanitiser (nh3) adds rel="noopener noreferrer" to every <a>; mdast has no rel',
    ours: (tree) =>
      rewrite(tree, (node) => {
        if (node.tagName === 'a' && 'rel' in node.properties) delete node.properties.rel
      })
  },
  {
    name: 'i, b, s and strike',
    why: 'mdast has one emphasis, strong and delete node, which HTML writes <em>, <strong>, <del>',
    ours: (tree) =>
      rewrite(tree, (node) => {
        const to = {i: 'em', b: 'strong', s: 'del', strike: 'del'}[node.tagName]
        if (to) node.tagName = to
      })
  },
  {
    name: 'wrappers',
    why: 'mdast has no <div> or <span>: a wrapper gives its content, an <a> without href its text',
    ours: (tree) =>
      rewrite(tree, (node) =>
        WRAPPERS.has(node.tagName) || (node.tagName === 'a' && node.properties.href === undefined)
          ? node.children
          : undefined
      )
  },
  {
    name: 'loose phrasing',
    why: 'mdast puts no text straight into flow content: text or an image between blocks is a paragraph',
    ours: (tree) => {
      for (const [node] of mapped(tree)) {
        if (!FLOW.has(tagOf(node)) || !node.children) continue
        const children = []
        let run = []
        const flush = () => {
          if (run.some((c) => c.type !== 'text' || c.value.trim())) children.push(element('p', run))
          run = []
        }
        for (const child of node.children) {
          if (isBlock(child)) {
            flush()
            children.push(child)
          } else if (child.type === 'text' || child.type === 'element') run.push(child)
        }
        flush()
        node.children = children
      }
      return tree
    }
  },
  {
    name: 'URLs percent-encoded',
    why: 'mdast keeps a url as html has it; mdast-util-to-hast percent-encodes what a URL may not hold (normalizeUri: spaces, <, {, non-ASCII)',
    ours: (tree) =>
      rewrite(tree, (node) => {
        for (const name of ['href', 'src']) {
          if (typeof node.properties[name] === 'string') node.properties[name] = normalizeUri(node.properties[name])
        }
      })
  },
  {
    name: 'images without src',
    why: 'an image whose source the sanitiser dropped (javascript:, data:) is <img> without src in html; an mdast image needs a url, so it has "", which mdast-util-to-hast writes src=""',
    ours: (tree) =>
      rewrite(tree, (node) => {
        if (node.tagName === 'img' && node.properties.src === undefined) node.properties.src = ''
      })
  },
  {
    name: 'empty paragraphs',
    why: 'a <p> holding only white space is no paragraph',
    ours: (tree) =>
      rewrite(tree, (node) =>
        node.tagName === 'p' && node.children.every((c) => c.type === 'text' && !c.value.trim())
          ? []
          : undefined
      )
  },
  {
    name: 'attributes without a field',
    why: 'mdast keeps the attributes it has fields for (href, src, alt, title, a heading\'s id, start, width, height); a paragraph\'s title, a footnote item\'s id, an inline code\'s class are not kept',
    ours: (tree) => {
      for (const [node, parent] of mapped(tree)) {
        if (node.type !== 'element' || !MAPPED.has(node.tagName)) continue
        const kept = KEPT_ATTRIBUTES[node.tagName] || []
        for (const name of Object.keys(node.properties)) {
          const codeClass = node.tagName === 'code' && parent && parent.tagName === 'pre' && name === 'className'
          if (!kept.includes(name) && !codeClass) delete node.properties[name]
        }
      }
      return tree
    }
  },
  {
    name: 'blocks in table cells',
    why: 'an mdast tableCell holds phrasing content only: paragraphs in a cell become their content, a <br> between two',
    ours: (tree) => {
      for (const [node] of mapped(tree)) {
        if (node.type !== 'element' || (node.tagName !== 'td' && node.tagName !== 'th')) continue
        if (!node.children.some(isBlock)) continue
        // As mdast reads the cell: its blocks, and each run of phrasing between them a
        // paragraph; then each block's content, a <br> between two.
        const blocks = []
        let run = []
        const flush = () => {
          if (run.some((c) => c.type !== 'text' || c.value.trim())) blocks.push(element('p', run))
          run = []
        }
        for (const child of node.children) {
          if (isBlock(child)) {
            flush()
            blocks.push(child)
          } else run.push(child)
        }
        flush()
        const children = []
        for (const block of blocks) {
          if (children.length > 0) children.push(element('br', []))
          children.push(...(block.tagName === 'pre' ? [element('code', block.children.flatMap((c) => c.children || [c]))] : block.children))
        }
        node.children = children
      }
      return tree
    }
  }
]

/** White space collapsed (but in <pre>), none next to blocks, attributes sorted. */
function normalise(node, inPre = false) {
  if (node.type === 'text') {
    if (!inPre) node.value = node.value.replace(/\s+/g, ' ')
    return node
  }
  if (node.type === 'comment') return node
  if (node.type === 'element') {
    const sorted = {}
    for (const key of Object.keys(node.properties).sort()) sorted[key] = node.properties[key]
    node.properties = sorted
  }
  const pre = inPre || (node.type === 'element' && node.tagName === 'pre')
  const children = []
  for (const child of (node.children || []).map((c) => normalise(c, pre))) {
    const last = children[children.length - 1]
    if (child.type === 'text' && last && last.type === 'text') last.value = pre ? last.value + child.value : (last.value + child.value).replace(/\s+/g, ' ')
    else children.push(child)
  }
  if (!pre && (node.type === 'root' || isBlock(node))) {
    for (let index = 0; index < children.length; index++) {
      const child = children[index]
      if (child.type !== 'text') continue
      const before = index === 0 || isBreak(children[index - 1])
      const after = index === children.length - 1 || isBreak(children[index + 1])
      if (before) child.value = child.value.trimStart()
      if (after) child.value = child.value.trimEnd()
    }
  }
  node.children = children.filter((child) => child.type !== 'text' || child.value !== '')
  return node
}

// White space next to a block or a line break is not shown.
const isBreak = (node) => isBlock(node) || (node.type === 'element' && node.tagName === 'br')

const parse = (html) => fromHtml(html, {fragment: true})
const written = (tree) => toHtml(normalise(tree))

/** The HTML mdast's own tools make of a tree (its html nodes kept as written: they are
 * pieces of our sanitised html). */
export function astToHtml(ast) {
  return toHtml(toHast(ast, {allowDangerousHtml: true}), {allowDangerousHtml: true})
}

const used = new Map(EXCEPTIONS.map((exception) => [exception.name, []]))

for (const page of pages) {
  test(`round trip: ${page.site} ${page.path}`, () => {
    const theirs = written(parse(astToHtml(page.ast)))
    let ours = parse(page.html)
    for (const exception of EXCEPTIONS) {
      const before = toHtml(ours)
      ours = exception.ours(ours)
      if (toHtml(ours) !== before) used.get(exception.name).push(`${page.site} ${page.path}`)
    }
    const expected = written(ours)
    if (process.env.RICH_TEXT_DIFFS && theirs !== expected) {
      // For a person looking into a failure: both sides, one block per line.
      const name = `${page.site}-${page.path}`.replace(/[^\w.-]+/g, '_')
      const lines = (html) => html.replace(/(<\/(?:p|li|h\d|tr|pre|blockquote|table|ul|ol)>)/g, '$1\n')
      writeFileSync(join(process.env.RICH_TEXT_DIFFS, `${name}.ast.html`), lines(theirs))
      writeFileSync(join(process.env.RICH_TEXT_DIFFS, `${name}.html`), lines(expected))
    }
    assert.equal(theirs, expected)
  })
}

test('every exception is needed by some page', () => {
  const unused = [...used].filter(([, found]) => found.length === 0).map(([name]) => name)
  assert.deepEqual(unused, [])
})
