// Taro 4, React, webpack 5, built for weapp (taro build --type weapp).
module.exports = function () {
  return {
    projectName: 'tokengate-test-taro',
    designWidth: 750,
    deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
    sourceRoot: 'src',
    outputRoot: 'dist',
    framework: 'react',
    compiler: 'webpack5',
    cache: { enable: false },
    // Taro bundles tokengate's JS but not its wasm: copy the .wasm.br to where "build npm"
    // would have put it, which is the loader's default path (no wasmPath needed).
    copy: {
      patterns: [
        { from: 'node_modules/tokengate/dist/tokengate_bg.wasm.br', to: 'dist/miniprogram_npm/tokengate/tokengate_bg.wasm.br' }
      ]
    },
    mini: {
      postcss: {
        pxtransform: { enable: true, config: {} },
        cssModules: { enable: false }
      }
    }
  }
}
