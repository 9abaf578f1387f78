// Shown when the session cannot be restored silently ('loginRequired'): an interactive login
// whose tokens are handed to the client with setSession(); waiting pages then go on.
const { client, api } = require('../../utils/request')

Page({
  data: { username: '', password: '', busy: false, error: '' },

  onUsernameInput (e) { this.setData({ username: e.detail.value }) },
  onPasswordInput (e) { this.setData({ password: e.detail.value }) },

  onSubmit () {
    if (this.data.busy) return
    this.setData({ busy: true, error: '' })
    const body = { username: this.data.username, password: this.data.password }
    // auth: false: this call carries no token and never triggers a refresh.
    return api(this).post('/auth/password', body, { auth: false })
      .then((tokens) => client.setSession({
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresIn: tokens.expiresIn
      }))
      .then(() => {
        getApp().globalData.reloadList = true
        this.setData({ busy: false, password: '' })
        wx.navigateBack()
      })
      .catch((err) => {
        this.setData({ busy: false, error: err.code === 'HTTP' ? 'Wrong username or password.' : `Login failed (${err.code}).` })
      })
  }
})
