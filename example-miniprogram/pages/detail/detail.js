const { api } = require('../../utils/request')

Page({
  data: { item: null, liked: false, error: '' },

  onLoad (query) {
    this.id = Number(query.id)
    return api(this).get(`/api/items/${this.id}`)
      .then((item) => this.setData({ item }))
      .catch((err) => this.setData({ error: `Could not load the item (${err.code}).` }))
  },

  onLike () {
    return api(this).post(`/api/items/${this.id}/like`)
      .then(() => this.setData({ liked: true }))
      .catch((err) => this.setData({ error: `Could not like it (${err.code}).` }))
  }
})
