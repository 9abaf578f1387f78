'use strict'
// WeChat's "build npm" and compile with miniprogram-ci (the devtools' CLI core), offline, on a
// copy of example-miniprogram/:
//
//   node tests/frameworks/lib/wechat-ci.js <out dir> [<extra packOptions.ignore as JSON>]
//
// 1. the project is copied (no node_modules, miniprogram_npm) and tokengate is installed in
//    its node_modules from dist/ (as `npm install` of this repository lays it out);
// 2. ci.packNpmManually (what the project's packNpmRelationList says): miniprogram_npm/;
// 3. ci.getCompiledResult with the project's packOptions (plus the extra ignores), and
//    `attr` answered locally (ci.DefaultProjectAttr) so that nothing asks WeChat's servers;
// 4. the compiled code package is written to <out dir>, file by file.
// Prints one JSON line: { packSecs, compileSecs, pack, files, dist, br } (dist: the files of the
// package installed, br: sha256 of its .wasm.br). Runs in its own process: the
// compiler leaves workers behind, so it ends with process.exit.
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { installTokengate, ROOT, FRAMEWORKS } = require('./install')
const { listFiles } = require('./build')

async function main() {
  const out = path.resolve(process.argv[2])
  const extraIgnore = JSON.parse(process.argv[3] || '[]')
  const ci = require(path.join(FRAMEWORKS, 'wechat', 'node_modules', 'miniprogram-ci'))
  const src = path.join(ROOT, 'example-miniprogram')
  const proj = fs.mkdtempSync(path.join(os.tmpdir(), 'tokengate-wechat-ci-'))
  try {
    fs.cpSync(src, proj, {
      recursive: true,
      filter: (p) => !/(^|\/)(node_modules|miniprogram_npm|\.data)(\/|$)/.test(path.relative(src, p)),
    })
    const installed = path.join(installTokengate(proj), 'dist')
    const dist = listFiles(installed)
    const br = crypto.createHash('sha256').update(fs.readFileSync(path.join(installed, 'tokengate_bg.wasm.br'))).digest('hex')
    const config = JSON.parse(fs.readFileSync(path.join(proj, 'project.config.json'), 'utf8'))
    let t = Date.now()
    const relations = (config.setting && config.setting.packNpmRelationList) || [{ packageJsonPath: './package.json', miniprogramNpmDistDir: './' }]
    const pack = []
    for (const rel of relations) {
      pack.push(await ci.packNpmManually({
        packageJsonPath: path.join(proj, rel.packageJsonPath),
        miniprogramNpmDistDir: path.join(proj, rel.miniprogramNpmDistDir),
      }))
    }
    const packSecs = (Date.now() - t) / 1000
    const packOptions = config.packOptions || { ignore: [], include: [] }
    const project = new ci.Project({
      appid: config.appid || 'touristappid',
      type: 'miniProgram',
      projectPath: proj,
      privateKey: 'not used offline',
      ignores: ['node_modules/**/*'],
      packOptions: { ignore: (packOptions.ignore || []).concat(extraIgnore), include: packOptions.include || [] },
    })
    project.attr = async () => ci.DefaultProjectAttr
    t = Date.now()
    const result = await ci.getCompiledResult({ project, setting: { useProjectConfig: true }, onProgressUpdate: () => {} })
    const compileSecs = (Date.now() - t) / 1000
    fs.rmSync(out, { recursive: true, force: true })
    for (const [rel, content] of Object.entries(result)) {
      const file = path.join(out, rel)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, content)
    }
    process.stdout.write('\n' + JSON.stringify({ packSecs, compileSecs, pack, files: Object.keys(result).sort(), dist, br }) + '\n')
  } finally {
    fs.rmSync(proj, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`wechat-ci: ${e && e.stack ? e.stack : e}\n`)
  process.exit(1)
})
