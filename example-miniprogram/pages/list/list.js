const { api, settleAll } = require('../../utils/request')

function describe (err) {
  return err && err.code === 'LOGIN_REQUIRED' ? 'Please log in.' : `Request failed (${err && err.code}).`
}

Page({
  data: {
    profile: null,
    items: [],
    stock: {},
    notice: '',
    banners: [],
    loading: false,
    error: ''
  },

  onLoad () {
    return this.load()
  },

  onShow () {
    const app = getApp()
    if (app.globalData.reloadList) {
      app.globalData.reloadList = false
      return this.load()
    }
  },

  onPullDownRefresh () {
    return this.load().then((r) => { wx.stopPullDownRefresh(); return r })
  },

  // Four requests at once: two need the token (on launch they wait for the silent login),
  // two are public (auth: false: sent at once, never with a token).
  load () {
    const http = api(this)
    this.setData({ loading: true, error: '' })
    return settleAll([
      http.get('/api/profile').then((profile) => this.setData({ profile })),
      http.get('/api/items').then((r) => this.setData({ items: r.items })),
      http.get('/public/notice', null, { auth: false }).then((r) => this.setData({ notice: r.notice })),
      http.get('/public/banner', null, { auth: false }).then((r) => this.setData({ banners: r.banners }))
    ]).then((results) => {
      const failed = results.find((r) => r.status === 'rejected')
      this.setData({ loading: false, error: failed ? describe(failed.reason) : '' })
      return results
    })
  },

  // "Update stock": one request per item on screen, all at once.
  onRefreshStock () {
    const http = api(this)
    const ids = this.data.items.map((it) => it.id)
    return settleAll(ids.map((id) =>
      http.get(`/api/items/${id}/stock`).then((r) => this.setData({ [`stock.${id}`]: r.stock }))
    )).then((results) => {
      const failed = results.find((r) => r.status === 'rejected')
      this.setData({ error: failed ? describe(failed.reason) : '' })
      return results
    })
  },

  onItemTap (e) {
    wx.navigateTo({ url: `/pages/detail/detail?id=${e.currentTarget.dataset.id}` })
  }
})
