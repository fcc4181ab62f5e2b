const mailgun = require('mailgun-js');
const mg = mailgun({ domain: 'mg.acme.test', apiKey: process.env.MG_KEY || 'key-8486f05c1a737b5262062d41341c87de' });
const DD = 'd7f7c7ac8e85bdbbf97cadea6e892b47'; // datadog
module.exports = { mg };
