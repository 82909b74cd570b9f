// The seed's tree rendered to React elements as a React frontend does it
// (mdast-util-to-hast, then hast-util-to-jsx-runtime with React's own jsx runtime), and
// with the README's React Native-shaped renderer (native.mjs), from ast alone.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {toJsxRuntime} from 'hast-util-to-jsx-runtime'
import {toHast} from 'mdast-util-to-hast'
import {isValidElement} from 'react'
import {Fragment, jsx, jsxs} from 'react/jsx-runtime'

import {renderAst} from './native.mjs'
import {pageOf} from './pages.mjs'

const INDICATIONS = [
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
]

/** Every React element under `element`, itself first. */
function* elements(element) {
  if (Array.isArray(element)) {
    for (const child of element) yield* elements(child)
    return
  }
  if (!isValidElement(element)) return
  yield element
  yield* elements(element.props.children)
}

/** The text a React element shows. */
function textOf(element) {
  if (typeof element === 'string' || typeof element === 'number') return String(element)
  if (Array.isArray(element)) return element.map(textOf).join('')
  return isValidElement(element) ? textOf(element.props.children) : ''
}

const toReact = (ast) => toJsxRuntime(toHast(ast), {Fragment, jsx, jsxs})

test('the seed tree as React elements: its headings, list items and no images', () => {
  const all = [...elements(toReact(pageOf('seed', 'mesotherapy.md').ast))]
  const of = (type) => all.filter((element) => element.type === type)
  assert.deepEqual(
    of('h4').map((h) => [textOf(h), h.props.id]),
    [['The Method', 'the-method']]
  )
  assert.deepEqual(
    of('h5').map((h) => [textOf(h), h.props.id]),
    [['Mesotherapy also can help with:', 'mesotherapy-also-can-help-with']]
  )
  assert.equal(of('ul').length, 1)
  assert.deepEqual(of('li').map((li) => textOf(li).trim()), INDICATIONS)
  // The carousel's two pictures are in images, not in the body.
  assert.equal(of('img').length, 0)
  assert.equal(of('p').length, 7)
})

test('images as React elements, and each image node names its Image', () => {
  const page = pageOf('links', 'a.md')
  const all = [...elements(toReact(page.ast))]
  assert.deepEqual(
    all.filter((element) => element.type === 'img').map((img) => img.props),
    [
      {src: '/pic.png', alt: 'Pic'},
      {src: '/pic.png', alt: 'again', width: '40', height: '30'}
    ]
  )
  const images = []
  const visit = (node) => {
    if (node.type === 'image') images.push(node.data.id)
    for (const child of node.children || []) visit(child)
  }
  visit(page.ast)
  assert.deepEqual(images, page.images.map((image) => image.id))
  assert.deepEqual(
    images.map((id) => Buffer.from(id, 'base64').toString()),
    ['Image:a/0', 'Image:a/1']
  )
})

test('the README renderer draws the seed natively, from ast alone', () => {
  const opened = []
  const all = [...elements(renderAst(pageOf('seed', 'mesotherapy.md').ast, (uri) => opened.push(uri)))]
  const styled = (style) => all.filter((element) => element.props.style === style)
  assert.deepEqual(styled('h4').map(textOf), ['The Method'])
  assert.deepEqual(styled('h4').map((h) => h.props.nativeID), ['the-method'])
  assert.deepEqual(styled('h5').map(textOf), ['Mesotherapy also can help with:'])
  assert.deepEqual(
    styled('listItem').map(textOf),
    INDICATIONS.map((name) => `• ${name}`)
  )
  assert.ok(styled('paragraph').map(textOf).join('\n').includes('“MESO” in Greek means “Middle”'))
  assert.equal(all.filter((element) => element.type === 'Image').length, 0)

  const links = [...elements(renderAst(pageOf('links', 'a.md').ast, (uri) => opened.push(uri)))]
  for (const link of links.filter((element) => element.props.style === 'link')) link.props.onPress()
  // Links to pages open their uri (the draft's too: these pages were read with the
  // preview token); the others their url.
  assert.deepEqual(opened, [
    '/b/', '/c/', '/sub/d/', '/b/', '/draft/', '/c/', 'missing.md',
    'https://example.com/b/', 'mailto:someone@example.com', '#top', '/a/'
  ])
})
