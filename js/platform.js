'use strict'
// Platform adapters: each turns one mini-program API family into the small shape the client
// uses (wx's callback shapes). wx, uni (uni-app) and tt (Douyin) mirror wx; my (Alipay)
// differs: my.request answers with `status`/`headers`, login is `my.getAuthCode`, storage
// takes `{ key }` and gives `{ data }`, failures carry `errorMessage`/`error`.
//
// Adapter shape:
//   name: 'wx' | 'uni' | 'my' | 'tt' | 'custom'
//   request(o)    o: { url, method, data, header, dataType, responseType, success, fail } -> task
//                 success({ statusCode, header, data }), fail({ errMsg })
//   uploadFile(o) / downloadFile(o): same callbacks (download success gives tempFilePath)
//   login(success(code), fail(errMsg))
//   getStorage(key) -> string | undefined (may throw), setStorage(key, v), removeStorage(key)
//   checkSession(success, fail) or null
//   envVersion() -> 'develop' | 'trial' | 'release'

function globalObject() {
  if (typeof globalThis !== 'undefined') return globalThis
  if (typeof self !== 'undefined') return self // eslint-disable-line no-undef
  if (typeof global !== 'undefined') return global
  return {}
}

function errMsgOf(err, fallback) {
  if (err == null) return fallback
  if (typeof err === 'string') return err
  if (typeof err.errMsg === 'string') return err.errMsg
  if (typeof err.errorMessage === 'string') return err.errorMessage
  if (typeof err.message === 'string') return err.message
  if (err.error != null) return fallback + ' (error ' + String(err.error) + ')'
  return fallback
}

function isFn(f) {
  return typeof f === 'function'
}

function envFromAccountInfo(p) {
  if (!isFn(p.getAccountInfoSync)) return null
  try {
    var info = p.getAccountInfoSync()
    var v = info && info.miniProgram && info.miniProgram.envVersion
    if (v === 'develop' || v === 'trial' || v === 'release') return v
  } catch (e) {}
  return null
}

// wx, uni, tt and any object with the wx API shape.
function wxLike(p, name) {
  return {
    name: name,
    raw: p,
    request: function (o) {
      return p.request(o)
    },
    uploadFile: isFn(p.uploadFile) ? function (o) { return p.uploadFile(o) } : null,
    downloadFile: isFn(p.downloadFile) ? function (o) { return p.downloadFile(o) } : null,
    login: function (ok, fail) {
      if (!isFn(p.login)) throw new Error('platform.login is missing')
      p.login({
        success: function (res) {
          var code = res && res.code
          if (typeof code === 'string' && code) ok(code)
          else fail(errMsgOf(res, 'login:fail no code'))
        },
        fail: function (err) { fail(errMsgOf(err, 'login:fail')) }
      })
    },
    getStorage: function (key) {
      return p.getStorageSync(key)
    },
    setStorage: function (key, value) {
      p.setStorageSync(key, value)
    },
    removeStorage: function (key) {
      p.removeStorageSync(key)
    },
    checkSession: isFn(p.checkSession)
      ? function (ok, fail) {
        p.checkSession({ success: function () { ok() }, fail: function () { fail() } })
      }
      : null,
    envVersion: function () {
      var v = envFromAccountInfo(p)
      if (v) return v
      if (isFn(p.getEnvInfoSync)) {
        // Douyin: { microapp: { envType: 'development' | 'preview' | 'production' } }
        try {
          var t = p.getEnvInfoSync().microapp.envType
          if (t === 'development') return 'develop'
          if (t === 'preview') return 'trial'
        } catch (e) {}
      }
      return 'release'
    }
  }
}

// Alipay (my): different field names, same semantics.
function alipay(p) {
  function mapCallbacks(o, mapSuccess) {
    var out = {}
    for (var k in o) {
      if (Object.prototype.hasOwnProperty.call(o, k)) out[k] = o[k]
    }
    if (o.header) out.headers = o.header
    out.success = function (res) { o.success(mapSuccess(res || {})) }
    out.fail = function (err) { o.fail({ errMsg: errMsgOf(err, 'request:fail') }) }
    return out
  }
  function mapResponse(res) {
    return {
      statusCode: res.status !== undefined ? res.status : res.statusCode,
      header: res.headers !== undefined ? res.headers : res.header,
      data: res.data
    }
  }
  return {
    name: 'my',
    raw: p,
    request: function (o) {
      var m = mapCallbacks(o, mapResponse)
      if (m.dataType === undefined) m.dataType = 'json'
      return p.request(m)
    },
    uploadFile: isFn(p.uploadFile)
      ? function (o) {
        var m = mapCallbacks(o, mapResponse)
        if (m.fileType === undefined) m.fileType = 'image'
        return p.uploadFile(m)
      }
      : null,
    downloadFile: isFn(p.downloadFile)
      ? function (o) {
        return p.downloadFile(mapCallbacks(o, function (res) {
          var r = mapResponse(res)
          r.tempFilePath = res.tempFilePath !== undefined ? res.tempFilePath : res.apFilePath
          if (r.statusCode === undefined) r.statusCode = 200
          return r
        }))
      }
      : null,
    login: function (ok, fail) {
      if (!isFn(p.getAuthCode)) throw new Error('my.getAuthCode is missing')
      p.getAuthCode({
        scopes: 'auth_base',
        success: function (res) {
          var code = res && res.authCode
          if (typeof code === 'string' && code) ok(code)
          else fail(errMsgOf(res, 'getAuthCode:fail no authCode'))
        },
        fail: function (err) { fail(errMsgOf(err, 'getAuthCode:fail')) }
      })
    },
    getStorage: function (key) {
      var res = p.getStorageSync({ key: key })
      return res && typeof res === 'object' ? res.data : undefined
    },
    setStorage: function (key, value) {
      p.setStorageSync({ key: key, data: value })
    },
    removeStorage: function (key) {
      p.removeStorageSync({ key: key })
    },
    checkSession: null,
    envVersion: function () {
      return envFromAccountInfo(p) || 'release'
    }
  }
}

function isAlipay(p, g) {
  return p === g.my || (isFn(p.getAuthCode) && !isFn(p.login))
}

// The adapter for `option` (a platform object), else the first of wx, uni, my, tt that
// exists. Returns null when there is none.
function pickPlatform(option) {
  var g = globalObject()
  if (option != null) {
    if (g.wx && option === g.wx) return wxLike(option, 'wx')
    if (g.uni && option === g.uni) return wxLike(option, 'uni')
    if (g.tt && option === g.tt) return wxLike(option, 'tt')
    if (isAlipay(option, g)) return alipay(option)
    return wxLike(option, 'custom')
  }
  if (g.wx && typeof g.wx === 'object') return wxLike(g.wx, 'wx')
  if (g.uni && typeof g.uni === 'object') return wxLike(g.uni, 'uni')
  if (g.my && typeof g.my === 'object') return alipay(g.my)
  if (g.tt && typeof g.tt === 'object') return wxLike(g.tt, 'tt')
  return null
}

module.exports = { pickPlatform: pickPlatform, wxLike: wxLike, alipay: alipay, errMsgOf: errMsgOf, globalObject: globalObject }
