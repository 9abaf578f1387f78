// A small CommonJS module loader for JavaScriptCore's shell (`jsc`), which has no require: the
// scripts that run the package in jsc (tests/jsc/harness.js, tests/runtimes/jsc-wasm2js.js,
// bench/jsc-ready.js, bench/jsc-request.js) evaluate this file with the shell's load(path) and
// call what it returns:
//   var modules = load(<path of this file>)({ packages: { tokengate: DIST + '/index.js' } })
//   modules.requireFrom(DIST)('tokengate'); modules.load(file)
// Options:
//   packages     bare module names and the files they stand for; any other bare name throws
//                "module 'x' is not defined", as in a mini-program (only ./ and ../ resolve).
//   miniProgram  true: wrap each module in the mini-program's function, with window, document,
//                self, ... as extra parameters left undefined; otherwise (require, module, exports).
// The result: load(file) evaluates a file once (later calls return its cached exports),
// requireFrom(dir) gives a require for modules in dir, evaluated lists the files in the order
// they were evaluated. Plain ES5: it runs with --useJIT=false, as iOS runs mini-programs.
(function () {
  'use strict'
  var COMMONJS_PARAMS = ['require', 'module', 'exports']
  var MINI_PROGRAM_PARAMS = COMMONJS_PARAMS.concat(['window', 'document', 'frames', 'self', 'location', 'navigator', 'localStorage', 'history', 'Caches', 'screen', 'alert', 'confirm', 'prompt', 'XMLHttpRequest', 'WebSocket', 'Reporter', 'webkit', 'WeixinJSCore'])

  return function cjs(options) {
    options = options || {}
    var packages = options.packages || {}
    var params = options.miniProgram ? MINI_PROGRAM_PARAMS : COMMONJS_PARAMS
    var cache = {}
    var evaluated = []

    function dirname(p) { return p.replace(/\/[^/]*$/, '') }
    function resolve(dir, id) {
      if (Object.prototype.hasOwnProperty.call(packages, id)) return packages[id]
      if (!/^\.{1,2}\//.test(id)) throw new Error("module '" + id + "' is not defined")
      var parts = (dir + '/' + id).split('/')
      var out = []
      for (var i = 0; i < parts.length; i++) {
        if (parts[i] === '..') out.pop()
        else if (parts[i] !== '.' && !(parts[i] === '' && i > 0)) out.push(parts[i])
      }
      var file = out.join('/')
      return /\.js$/.test(file) ? file : file + '.js'
    }
    function load(file) {
      if (cache[file]) return cache[file].exports
      var src = readFile(file)
      var module = { exports: {} }
      cache[file] = module
      evaluated.push(file)
      var fn = Function.apply(null, params.concat([src + '\n//# sourceURL=' + file]))
      fn.call(module.exports, requireFrom(dirname(file)), module, module.exports)
      return module.exports
    }
    function requireFrom(dir) {
      return function require(id) { return load(resolve(dir, id)) }
    }
    return { load: load, requireFrom: requireFrom, evaluated: evaluated }
  }
})()
