// The operator page; see the control API in docs/.
const root = document.getElementById('app');
if (root) root.textContent = 'Mirror operator';
