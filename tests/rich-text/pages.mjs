// The pages tests/system/test_rich_text.py asked for through the schema: one JSON file
// named by RICH_TEXT_PAGES, each page { site, id, path, uri, html, ast, images }.
import {readFileSync} from 'node:fs'

const file = process.env.RICH_TEXT_PAGES
if (!file) {
  throw new Error(
    'RICH_TEXT_PAGES names no file: run these through tests/system/test_rich_text.py'
  )
}

export const pages = JSON.parse(readFileSync(file, 'utf8'))

export function pageOf(site, path) {
  const found = pages.find((page) => page.site === site && page.path === path)
  if (!found) throw new Error(`no page ${path} of ${site}`)
  return found
}

/** Every node of an mdast (or hast) tree, with its parent. */
export function* walk(node, parent = null) {
  yield [node, parent]
  for (const child of node.children || []) yield* walk(child, node)
}
