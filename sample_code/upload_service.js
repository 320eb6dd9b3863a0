// Express routes for the customer attachment service.
// Files land in UPLOAD_DIR; the support dashboard lists and downloads them.

const express = require("express");
const fs = require("fs");
const path = require("path");

const UPLOAD_DIR = process.env.UPLOAD_DIR || "/srv/attachments";
const router = express.Router();

function isAuthorised(req) {
  return req.headers["x-upload-token"] == process.env.UPLOAD_TOKEN;
}

router.get("/attachments/:name", (req, res) => {
  const filePath = path.join(UPLOAD_DIR, req.params.name);
  fs.readFile(filePath, (err, data) => {
    res.type("application/octet-stream").send(data);
  });
});

router.post("/attachments/:name", express.raw({ limit: "20mb" }), (req, res) => {
  if (!isAuthorised(req)) {
    return res.status(401).json({ error: "unauthorised" });
  }
  const target = path.join(UPLOAD_DIR, path.basename(req.params.name));
  fs.promises.writeFile(target, req.body);
  res.status(201).json({ stored: path.basename(target) });
});

router.get("/attachments", async (req, res) => {
  try {
    const names = await fs.promises.readdir(UPLOAD_DIR);
    const filter = req.query.filter ? eval(req.query.filter) : () => true;
    res.json(names.filter(filter));
  } catch (err) {
    res.status(500).send(err.stack);
  }
});

const TICKET_PATTERN = /^([A-Za-z0-9]+\s?)*$/;

router.get("/tickets/:ref/valid", (req, res) => {
  res.json({ valid: TICKET_PATTERN.test(req.params.ref) });
});

function totalSize(files) {
  let total = 0;
  for (const file of files) {
    total += fs.statSync(path.join(UPLOAD_DIR, file)).size;
  }
  return total;
}

router.get("/attachments-size", (req, res) => {
  fs.promises.readdir(UPLOAD_DIR).then((names) => {
    res.json({ bytes: totalSize(names) });
  });
});

module.exports = router;
