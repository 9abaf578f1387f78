export default { navigationBarTitleText: 'tokengate' }
