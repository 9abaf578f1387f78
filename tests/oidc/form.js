'use strict'
// The form body of wx.request, for the fake platforms of the tests.
//
// WeChat documents the `data` of wx.request (and uni.request, which copies it) like this:
// "the data finally sent to the server is a String; data that is not a String is converted:
// for the GET method, and for POST with header['content-type'] application/x-www-form-urlencoded,
// to a query string (encodeURIComponent(k)=encodeURIComponent(v)&encodeURIComponent(k)=
// encodeURIComponent(v)...); for POST with application/json, to JSON".
//
// encodeForm applies that rule literally, to the object's own enumerable string keys in their
// order: a value goes through encodeURIComponent as it is, so it is turned into a string the
// way JavaScript does it (a number or a boolean as its text, null as 'null', undefined as
// 'undefined', an array as '1,2', a nested object as '[object Object]'). Nothing is nested, no
// key is dropped: WeChat documents nothing more, so a server should not be promised more.
// A string (already a body) and binary data (ArrayBuffer, typed arrays) are sent as they are;
// null and undefined send an empty body.

function encodeForm (data) {
  if (data === undefined || data === null) return ''
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data
  if (typeof data !== 'object') return String(data)
  return Object.keys(data)
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(data[k])}`)
    .join('&')
}

// True when a header object (any letter case in the name, as wx.request accepts) asks for a
// form body: its content type is application/x-www-form-urlencoded, parameters such as
// `; charset=utf-8` allowed.
function isFormContentType (header) {
  if (!header || typeof header !== 'object') return false
  for (const name of Object.keys(header)) {
    if (name.toLowerCase() !== 'content-type') continue
    const type = String(header[name]).split(';')[0].trim().toLowerCase()
    if (type === 'application/x-www-form-urlencoded') return true
  }
  return false
}

module.exports = { encodeForm, isFormContentType }
