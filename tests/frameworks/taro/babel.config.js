// babel-preset-taro, as Taro's React template has it.
module.exports = {
  presets: [['taro', { framework: 'react', ts: false, compiler: 'webpack5' }]]
}
