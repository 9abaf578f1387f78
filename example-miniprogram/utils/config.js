// Where the example auth server is. In the WeChat devtools run
//   node example-miniprogram/server --port 3000
// and tick "Does not verify valid domain names" (project.config.json sets urlCheck: false).
// The headless demo runner passes its own server URL through wx.getExtConfigSync().
const ext = (typeof wx.getExtConfigSync === 'function' && wx.getExtConfigSync()) || {}

module.exports = {
  baseURL: ext.baseURL || 'http://127.0.0.1:3000',
  // true when the server runs with --envelope ({ code, message, data } bodies)
  envelope: ext.envelope === true
}
