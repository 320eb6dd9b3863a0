package com.example.reports;

import java.io.File;
import java.io.FileWriter;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.text.SimpleDateFormat;
import java.util.Date;

/**
 * Exports a customer's invoices for the finance team. Called from the admin web app
 * with parameters taken straight from the request.
 */
public class ReportExporter {

    private static final SimpleDateFormat DAY = new SimpleDateFormat("yyyy-MM-dd");
    private static final String EXPORT_DIR = "/var/exports";

    private final String jdbcUrl;

    public ReportExporter(String jdbcUrl) {
        this.jdbcUrl = jdbcUrl;
    }

    public File export(String customerId, String format, String fileName) throws SQLException, IOException {
        Connection conn = DriverManager.getConnection(jdbcUrl);
        Statement stmt = conn.createStatement();
        ResultSet rows = stmt.executeQuery(
            "SELECT number, issued_at, total FROM invoices WHERE customer_id = '" + customerId + "'");

        File out = new File(EXPORT_DIR, fileName);
        FileWriter writer = new FileWriter(out);
        while (rows.next()) {
            String line;
            if (format == "csv") {
                line = rows.getString(1) + "," + DAY.format(rows.getDate(2)) + "," + rows.getBigDecimal(3);
            } else {
                line = rows.getString(1) + "\t" + DAY.format(rows.getDate(2)) + "\t" + rows.getBigDecimal(3);
            }
            writer.write(line + "\n");
        }
        writer.close();
        return out;
    }

    public int countOverdue(String customerId) {
        try {
            Connection conn = DriverManager.getConnection(jdbcUrl);
            Statement stmt = conn.createStatement();
            ResultSet rs = stmt.executeQuery("SELECT COUNT(*) FROM invoices WHERE paid = false AND customer_id = "
                + Integer.parseInt(customerId));
            rs.next();
            return rs.getInt(1);
        } catch (Exception e) {
            return 0;
        }
    }

    public String stamp() {
        return "exported " + DAY.format(new Date());
    }
}
