// The run every framework app makes at launch, with the client it created from the package:
// a silent login (the first request waits for it), then the server expires the access token
// (ext.expireAccess(): the client still thinks it valid), and the next request is rejected
// with 401, refreshed once and replayed. The harness (tests/frameworks/lib/app.js) passes
// ext through wx.getExtConfigSync() and checks the server's and the wire's side.
// ES module in ES5 syntax: webpack (Taro) and vite (uni-app) bundle it from outside their src/.
export function run(client, ext) {
  var out = {}
  client.ready
    .then(function () { return client.get('/api/profile') })
    .then(function (profile) {
      out.profile = profile
      ext.expireAccess()
      return client.get('/api/items')
    })
    .then(function (body) {
      out.items = body && body.items ? body.items.length : -1
      out.session = client.session()
      ext.report(null, out)
    }, function (err) {
      ext.report({ code: err && err.code, message: err && err.message })
    })
}
