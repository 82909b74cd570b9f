// The README's React Native-shaped renderer: one function per mdast node type, from
// Treatment.ast alone (no html). In an app, View, Text, Image and Pressable come from
// 'react-native' and `open` navigates; here they are host names so React alone runs it.
import {createElement as h} from 'react'

const View = 'View'
const Text = 'Text'
const Image = 'Image'

const renderers = {
  root: (node, r) => h(View, null, ...r(node.children)),
  paragraph: (node, r) => h(Text, {style: 'paragraph'}, ...r(node.children)),
  heading: (node, r) =>
    h(Text, {style: `h${node.depth}`, nativeID: node.data?.id}, ...r(node.children)),
  text: (node) => node.value,
  emphasis: (node, r) => h(Text, {style: 'italic'}, ...r(node.children)),
  strong: (node, r) => h(Text, {style: 'bold'}, ...r(node.children)),
  delete: (node, r) => h(Text, {style: 'strike'}, ...r(node.children)),
  inlineCode: (node) => h(Text, {style: 'mono'}, node.value),
  break: () => '\n',
  link: (node, r, open) =>
    // A link to another page carries its id and uri: open it in the app, not a browser.
    h(Text, {style: 'link', onPress: () => open(node.data?.uri ?? node.url)}, ...r(node.children)),
  image: (node) =>
    // data.id is the Image's global id: ask for its sizes and transforms with node(id:).
    h(Image, {source: {uri: node.url}, accessibilityLabel: node.alt ?? undefined, imageId: node.data?.id}),
  list: (node, r) =>
    h(View, {style: 'list'}, ...node.children.map((item, index) =>
      h(View, {style: 'listItem'},
        h(Text, null, node.ordered ? `${(node.start ?? 1) + index}. ` : '• '),
        ...r(item.children)))),
  blockquote: (node, r) => h(View, {style: 'quote'}, ...r(node.children)),
  code: (node) => h(Text, {style: 'codeBlock'}, node.value),
  thematicBreak: () => h(View, {style: 'rule'}),
  table: (node, r) => h(View, {style: 'table'}, ...r(node.children)),
  tableRow: (node, r) => h(View, {style: 'row'}, ...r(node.children)),
  tableCell: (node, r) => h(Text, {style: 'cell'}, ...r(node.children)),
  // Raw HTML that mdast has no node for (a <details>, a <sup>): its text, or a WebView.
  html: (node) => h(Text, {style: 'html'}, node.value.replace(/<[^>]*>/g, ''))
}

/** React elements for a Treatment.ast tree; `open(uri)` follows a link. */
export function renderAst(tree, open = () => {}) {
  // Children are spread into createElement, so React asks for no keys.
  const render = (nodes) =>
    nodes.map((node) => (renderers[node.type] ?? (() => null))(node, render, open))
  return render([tree])[0]
}
