const { client } = require('./utils/request')

App({
  globalData: {
    // set by the login page so the list page reloads when it shows again
    reloadList: false
  },

  onLaunch () {
    // The session cannot be restored without the user: show the login page (once).
    client.on('loginRequired', ({ reason }) => {
      console.log(`loginRequired (${reason}): opening the login page`)
      this.openLoginPage()
    })
    // Silent login on launch, unless a session was restored from storage. Requests the first
    // page makes meanwhile wait for it; they are neither lost nor sent without a token.
    client.ready
      .then(() => (client.session().loggedIn ? null : client.login()))
      .catch((err) => console.log(`silent login on launch failed: ${err.code}`))
  },

  openLoginPage () {
    const pages = getCurrentPages()
    const top = pages[pages.length - 1]
    if (top && top.route === 'pages/login/login') return
    wx.navigateTo({ url: '/pages/login/login' })
  }
})
