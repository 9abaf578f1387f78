// The five-minute start, file 3 of 3: a page.
// Quoted in README.md and README.zh-CN.md; tests/js/docs.test.js runs onLoad with a fake wx
// and checks the page gets its data with one silent login and no refresh.
// #region page
// pages/index/index.js
const client = require('../../utils/request')
const { showError } = require('../../utils/errors')

Page({
  data: { profile: null, orders: [], notice: '' },

  onLoad () {
    // On first launch there is no token yet: both requests wait for one silent login
    // (wx.login + POST /auth/login), then go out with the new token.
    return Promise.all([
      client.get('/api/profile'),
      client.get('/api/orders', { page: 1 }),
      // a public endpoint: sent at once, never with a token
      client.get('/public/notice', null, { auth: false })
    ]).then(([profile, orders, notice]) => {
      this.setData({ profile, orders: orders.items, notice: notice.text })
    }).catch(showError)
  }
})
// #endregion
