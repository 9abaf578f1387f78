import { useLaunch } from '@tarojs/taro'
import { createClient } from 'tokengate'
import { run } from '../../app-scenario.js'

// The wasm is at the loader's default path (config/index.js copies it there).
const ext = wx.getExtConfigSync()
const client = createClient({ platform: wx, baseURL: ext.baseURL })

function App({ children }) {
  useLaunch(() => run(client, ext))
  return children
}

export default App
