// `npm start`: the server with demo data. Until the server lands, say so plainly.
console.log(
  'seatmeter: the server is not built yet (see the open issues); `npm test` runs the billing core suite.',
);
